import { randomBytes } from 'node:crypto';
import { SECRET_PREFIX, isStandardWebhooksSecret, signStandardWebhook, signXSignature } from '@novee/webhooks-verify';

export { SECRET_PREFIX };
export const TIMESTAMP_HEADER = 'X-Timestamp';
export const SIGNATURE_HEADER = 'X-Signature';

/**
 * A new signing secret in the Standard Webhooks form: `whsec_` + 32 random bytes in base64. Secrets issued
 * before were `whsec_` + 64 hex digits; they keep working for both schemes (hex digits are valid base64).
 */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** Lowercase hex HMAC-SHA256 with the webhook's secret over `{timestamp}.{body}` (SPEC's X-Signature). */
export function sign(secret: string, timestamp: string, body: string): string {
  return signXSignature(secret, timestamp, body);
}

/** The SPEC signature headers for one delivery; the timestamp is taken now, when signing. */
export function signatureHeaders(secret: string, body: string, now: number = Date.now()): Record<string, string> {
  const timestamp = String(now);
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: sign(secret, timestamp, body) };
}

/**
 * The Standard Webhooks headers (additive): `webhook-id` = the event id, `webhook-timestamp` in Unix seconds,
 * and one `v1,` signature per secret still valid (the current one first; the previous one during a rotation's
 * grace window), space-separated, so a receiver holding either secret verifies.
 * Every secret we issue is base64 (new) or hex (older, also base64 text); a secret that is neither cannot give a
 * key that all Standard Webhooks libraries agree on, so it signs X-Signature only: no header is better than a
 * signature half the libraries would derive differently, and the delivery itself must never fail on it.
 */
export function standardWebhookHeaders(
  eventId: string,
  secrets: readonly string[],
  body: string,
  now: number = Date.now(),
): Record<string, string> {
  const usable = secrets.filter(isStandardWebhooksSecret);
  if (usable.length === 0) return {};
  const timestamp = String(Math.floor(now / 1000));
  return {
    'webhook-id': eventId,
    'webhook-timestamp': timestamp,
    'webhook-signature': usable.map((secret) => signStandardWebhook(secret, eventId, timestamp, body)).join(' '),
  };
}
