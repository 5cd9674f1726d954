import { createHmac } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';

export type Body = string | Uint8Array;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The Standard Webhooks HMAC key of a `whsec_` secret: the base64 text after the prefix, decoded.
 * Secrets issued as `whsec_` + 64 hex digits are valid base64 too (hex digits are base64 characters), so they
 * decode to a 48-byte key: what every Standard Webhooks library derives from the same, unchanged string.
 */
export function standardWebhooksKey(secret: string): Buffer {
  if (!isStandardWebhooksSecret(secret)) throw new TypeError('a Standard Webhooks secret must be whsec_ followed by base64');
  return Buffer.from(withoutPrefix(secret), 'base64');
}

/** True when the secret (after an optional `whsec_`) is non-empty, padded, standard base64. */
export function isStandardWebhooksSecret(secret: string): boolean {
  const encoded = withoutPrefix(secret);
  return encoded.length > 0 && BASE64.test(encoded);
}

const withoutPrefix = (secret: string) => (secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);

/** X-Signature (the SPEC scheme): lowercase hex HMAC-SHA256 keyed with the whole secret string, over `{X-Timestamp}.{body}`. */
export function signXSignature(secret: string, timestampMs: string, body: Body): string {
  return createHmac('sha256', secret).update(`${timestampMs}.`).update(body).digest('hex');
}

/** webhook-signature entry (Standard Webhooks): `v1,` + base64 HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`. */
export function signStandardWebhook(secret: string, id: string, timestampSeconds: string, body: Body): string {
  const digest = createHmac('sha256', standardWebhooksKey(secret)).update(`${id}.${timestampSeconds}.`).update(body).digest('base64');
  return `v1,${digest}`;
}
