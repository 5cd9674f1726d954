import { randomUUID } from 'node:crypto';
import got, { type Got } from 'got';
import { Counter, type Registry } from 'prom-client';
import { signatureHeaders, standardWebhookHeaders, type Logger } from '@novee/shared';
import { USER_AGENT } from '../delivery/build-delivery-request';
import type { HealthTransition } from './endpoint-health';

/** The operational webhook's event types (as Svix names its own). */
export type OperationalEventType = 'endpoint.failing' | 'endpoint.disabled' | 'endpoint.recovered';

export interface OperationalNotifierOptions {
  /** OPERATIONAL_WEBHOOK_URL: set by the operator (a support team's tool), so not subject to the SSRF policy. */
  url: string;
  /** OPERATIONAL_WEBHOOK_SECRET (whsec_...): signs like a customer's webhook, X-Signature and webhook-signature. */
  secret: string;
  timeoutMs: number;
  /** Tries per notice (the first and its retries, 1 s, 2 s, 4 s ... apart). */
  tries?: number;
}

/**
 * Tells the operator when an endpoint starts failing, is disabled or recovers, so that a support team can call
 * the customer before a patient's alert is missed: a signed POST (same schemes as customers' webhooks) to
 * OPERATIONAL_WEBHOOK_URL, a metric and a log line. Sent in the background with a few retries: a notice never
 * holds up a delivery, and one that cannot be sent is logged as an error (the transition itself is in the log and
 * novee_endpoint_health_transitions_total regardless).
 */
export class OperationalNotifier {
  private readonly client: Got;
  private readonly sent: Counter<'type' | 'outcome'>;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly options: OperationalNotifierOptions,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.client = got.extend({
      timeout: { request: options.timeoutMs },
      followRedirect: false,
      throwHttpErrors: false,
      retry: { limit: 0 },
    });
    this.sent = new Counter({
      name: 'novee_operational_webhooks_total',
      help: 'Operational webhooks (endpoint.failing, endpoint.disabled, endpoint.recovered) by outcome',
      labelNames: ['type', 'outcome'],
      registers: [registry],
    });
  }

  notify(transition: HealthTransition): void {
    const { kind, ...data } = transition;
    const type: OperationalEventType = `endpoint.${kind}`;
    const body = JSON.stringify({ type, timestamp: new Date().toISOString(), data });
    const send = this.deliver(type, randomUUID(), body).finally(() => this.pending.delete(send));
    this.pending.add(send);
  }

  /** Wait for notices under way (shutdown, tests). */
  async drain(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  private async deliver(type: OperationalEventType, id: string, body: string): Promise<void> {
    const tries = this.options.tries ?? 4;
    let problem = '';
    for (let attempt = 1; attempt <= tries; attempt++) {
      if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 1_000 * 2 ** (attempt - 2)));
      const now = Date.now();
      try {
        const { statusCode } = await this.client.post(this.options.url, {
          body,
          headers: {
            'Content-Type': 'application/json',
            'User-Agent': USER_AGENT,
            'X-Event-Id': id,
            'X-Event-Type': type,
            ...signatureHeaders(this.options.secret, body, now),
            ...standardWebhookHeaders(id, [this.options.secret], body, now),
          },
        });
        if (statusCode >= 200 && statusCode < 300) {
          this.sent.inc({ type, outcome: 'delivered' });
          return;
        }
        problem = `answered ${statusCode}`;
      } catch (error) {
        problem = (error as Error).message;
      }
    }
    this.sent.inc({ type, outcome: 'failed' });
    this.logger.error('operational webhook not delivered', { type, id, tries, error: problem });
  }
}
