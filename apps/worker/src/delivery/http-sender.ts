import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import got, { type Got } from 'got';
import { DEFAULT_PORT_ALLOW_LIST, checkWebhookUrl, guardedLookup, type PortAllowList } from '@novee/shared';
import type { DeliveryRequest } from './build-delivery-request';
import { isThrottleStatus, parseRetryAfter } from './retry-after';

export type SendResult =
  | { ok: true; statusCode: number; durationMs: number }
  | {
      ok: false;
      statusCode?: number;
      error: string;
      durationMs: number;
      /** A 429 or 503 answer's Retry-After, in ms from now (the receiver asks us to wait). */
      retryAfterMs?: number;
    };

/**
 * POSTs a signed delivery with got. 2xx is delivered; anything else (non-2xx, redirect, timeout,
 * unreachable) is a failure the caller records. got's own retries are off: the queue owns retrying.
 */
export class HttpSender {
  private readonly client: Got;
  private readonly agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

  constructor(
    timeoutMs: number,
    /** Dev/test only: allow loopback receivers. */
    private readonly allowLoopback = false,
    /** Ports a webhook may use (WEBHOOK_ALLOWED_PORTS), checked again at delivery. */
    private readonly allowedPorts: PortAllowList = DEFAULT_PORT_ALLOW_LIST,
  ) {
    this.client = got.extend({
      // SSRF guard, delivery side: every address a connection is made to is checked when it is resolved.
      dnsLookup: guardedLookup({ allowLoopback }),
      timeout: { request: timeoutMs },
      followRedirect: false,
      throwHttpErrors: false,
      decompress: false, // the body is discarded: do not ask for (or inflate) a compressed one
      retry: { limit: 0 },
      agent: this.agents,
    });
  }

  async send(request: DeliveryRequest): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    // IP-literal hosts are never resolved, so they are checked here (as are the scheme and credentials).
    const refused = checkWebhookUrl(request.url, { allowHttpLoopback: this.allowLoopback, allowedPorts: this.allowedPorts });
    if (refused) return { ok: false, error: `blocked: ${refused}`, durationMs: 0 };
    try {
      const { statusCode, retryAfter } = await this.post(request);
      if (statusCode >= 200 && statusCode < 300) return { ok: true, statusCode, durationMs: elapsed() };
      const retryAfterMs = isThrottleStatus(statusCode) ? parseRetryAfter(retryAfter) : undefined;
      return {
        ok: false,
        statusCode,
        error: `receiver answered ${statusCode}`,
        durationMs: elapsed(),
        ...(retryAfterMs !== undefined && { retryAfterMs }),
      };
    } catch (error) {
      const { code, message } = error as { code?: string; message: string };
      return { ok: false, error: code ? `${code}: ${message}` : message, durationMs: elapsed() };
    }
  }

  /**
   * got's stream API: only the status (and a Retry-After) matters, so the answer's body is read and dropped, never buffered (a
   * receiver cannot make us hold a huge body), and it skips the promise API's buffering (measurably cheaper).
   * The request timeout covers the whole exchange, body included.
   */
  private post(request: DeliveryRequest): Promise<{ statusCode: number; retryAfter?: string }> {
    return new Promise((resolve, reject) => {
      let answer: { statusCode: number; retryAfter?: string } = { statusCode: 0 };
      this.client.stream
        .post(request.url, { body: request.body, headers: request.headers })
        .on('response', (response: { statusCode: number; headers: Record<string, string | string[] | undefined> }) => {
          const retryAfter = response.headers['retry-after'];
          answer = { statusCode: response.statusCode, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter };
        })
        .on('error', reject)
        .on('end', () => resolve(answer))
        .resume();
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
