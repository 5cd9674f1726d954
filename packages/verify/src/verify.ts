import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidHeaderError, MissingHeaderError, NoMatchingSignatureError, StaleTimestampError } from './errors';
import { readHeader, type HeaderBag } from './headers';
import { isStandardWebhooksSecret, signXSignature, standardWebhooksKey, type Body } from './signatures';

export type WebhookScheme = 'standard-webhooks' | 'x-signature';

export interface VerifyOptions {
  /** How far the signed timestamp may be from now, either way. Default 5 minutes. */
  toleranceMs?: number;
  /** Which headers to check. Default `auto`: webhook-signature when present, else X-Signature. */
  scheme?: WebhookScheme | 'auto';
  /** The current time in Unix ms (for tests). */
  now?: number;
}

export interface VerifiedWebhook {
  scheme: WebhookScheme;
  /** The event id (webhook-id, or X-Event-Id): the same on every retry, so de-duplicate on it. */
  id: string | undefined;
  /** When this attempt was signed. */
  timestamp: Date;
  /** Which of the given secrets matched (0 = the first). */
  secretIndex: number;
}

export const DEFAULT_TOLERANCE_MS = 5 * 60 * 1000;

/**
 * Check that a request is a genuine, fresh Novee webhook, over the raw body exactly as received (never a
 * re-serialized parse). Pass every secret you currently accept (e.g. old and new around a rotation).
 * Returns what was verified; throws a WebhookVerificationError subclass saying why not. Comparisons are
 * timing-safe.
 */
export function verify(
  rawBody: Body,
  headers: HeaderBag,
  secrets: string | readonly string[],
  options: VerifyOptions = {},
): VerifiedWebhook {
  const secretList = typeof secrets === 'string' ? [secrets] : [...secrets];
  if (secretList.length === 0 || secretList.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new TypeError('verify needs at least one non-empty secret');
  }
  const toleranceMs = options.toleranceMs ?? DEFAULT_TOLERANCE_MS;
  const now = options.now ?? Date.now();
  const scheme = options.scheme ?? 'auto';
  const hasStandard = readHeader(headers, 'webhook-signature') !== undefined;
  const hasXSignature = readHeader(headers, 'X-Signature') !== undefined;
  if (scheme === 'auto' && !hasStandard && !hasXSignature) {
    throw new MissingHeaderError('webhook-signature', 'missing webhook-signature (or X-Signature) header');
  }
  const useStandard = scheme === 'standard-webhooks' || (scheme === 'auto' && hasStandard);
  return useStandard
    ? verifyStandardWebhook(rawBody, headers, secretList, toleranceMs, now)
    : verifyXSignature(rawBody, headers, secretList, toleranceMs, now);
}

function required(headers: HeaderBag, name: string): string {
  const value = readHeader(headers, name);
  if (value === undefined || value === '') throw new MissingHeaderError(name);
  return value;
}

function checkFreshness(timestamp: Date, toleranceMs: number, now: number): void {
  if (Math.abs(now - timestamp.getTime()) > toleranceMs) throw new StaleTimestampError(timestamp, toleranceMs, now);
}

function verifyStandardWebhook(body: Body, headers: HeaderBag, secrets: string[], toleranceMs: number, now: number): VerifiedWebhook {
  const signatureHeader = required(headers, 'webhook-signature');
  const id = required(headers, 'webhook-id');
  const timestampText = required(headers, 'webhook-timestamp');
  if (!/^\d{1,12}$/.test(timestampText)) throw new InvalidHeaderError('webhook-timestamp', 'must be Unix seconds');
  const timestamp = new Date(Number(timestampText) * 1000);
  checkFreshness(timestamp, toleranceMs, now);

  // Space-separated `version,base64` entries, one per secret that signed; versions other than v1 are skipped.
  const offered = signatureHeader
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry.slice(3), 'base64'))
    .filter((signature) => signature.length === 32);
  if (offered.length === 0) throw new NoMatchingSignatureError('webhook-signature carries no v1 signature');

  for (const [secretIndex, secret] of secrets.entries()) {
    if (!isStandardWebhooksSecret(secret)) continue; // cannot have signed this scheme (no base64 key)
    const expected = createHmac('sha256', standardWebhooksKey(secret)).update(`${id}.${timestampText}.`).update(body).digest();
    if (offered.some((signature) => timingSafeEqual(signature, expected))) {
      return { scheme: 'standard-webhooks', id, timestamp, secretIndex };
    }
  }
  throw new NoMatchingSignatureError();
}

function verifyXSignature(body: Body, headers: HeaderBag, secrets: string[], toleranceMs: number, now: number): VerifiedWebhook {
  const signature = required(headers, 'X-Signature');
  const timestampText = required(headers, 'X-Timestamp');
  if (!/^\d{1,16}$/.test(timestampText)) throw new InvalidHeaderError('X-Timestamp', 'must be Unix milliseconds');
  if (!/^[0-9a-f]{64}$/.test(signature)) throw new InvalidHeaderError('X-Signature', 'must be 64 lowercase hex digits');
  const timestamp = new Date(Number(timestampText));
  checkFreshness(timestamp, toleranceMs, now);

  const offered = Buffer.from(signature, 'hex');
  for (const [secretIndex, secret] of secrets.entries()) {
    if (timingSafeEqual(offered, Buffer.from(signXSignature(secret, timestampText, body), 'hex'))) {
      return { scheme: 'x-signature', id: readHeader(headers, 'X-Event-Id'), timestamp, secretIndex };
    }
  }
  throw new NoMatchingSignatureError();
}
