import { WebhookVerificationError, verify, type HeaderBag, type WebhookScheme } from '@novee/webhooks-verify';

export type { HeaderBag };

export interface VerifyOptions {
  /** How far the signed timestamp may be from now, either way. Default 5 minutes. */
  toleranceMs?: number;
  /** Current time in Unix ms (for tests). */
  now?: number;
  /** Default: webhook-signature when present, else X-Signature. */
  scheme?: WebhookScheme | 'auto';
}

/**
 * For receivers: true when the request is a genuine, fresh webhook for the raw body (either scheme).
 * A boolean wrapper over `verify` from @novee/webhooks-verify, which says why when it refuses.
 */
export function verifyWebhook(rawBody: string | Buffer, headers: HeaderBag, secret: string, options: VerifyOptions = {}): boolean {
  try {
    verify(rawBody, headers, [secret], options);
    return true;
  } catch (error) {
    if (error instanceof WebhookVerificationError) return false;
    throw error;
  }
}
