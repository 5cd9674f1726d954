import { createHmac, randomBytes } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';
export const TIMESTAMP_HEADER = 'X-Timestamp';
export const SIGNATURE_HEADER = 'X-Signature';

/** A new signing secret: `whsec_` + 32 random bytes as hex. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('hex');
}

/** Lowercase hex HMAC-SHA256 with the webhook's secret over `{timestamp}.{body}`. */
export function sign(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The signature headers for one delivery; the timestamp is taken now, when signing. */
export function signatureHeaders(secret: string, body: string, now: number = Date.now()): Record<string, string> {
  const timestamp = String(now);
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: sign(secret, timestamp, body) };
}
