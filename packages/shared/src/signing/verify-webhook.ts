import { timingSafeEqual } from 'node:crypto';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, sign } from './sign-payload';

export type HeaderBag = Record<string, string | string[] | undefined> | { get(name: string): string | null };

export interface VerifyOptions {
  /** How far X-Timestamp may be from now, either way. Default 5 minutes. */
  toleranceMs?: number;
  /** Current time in Unix ms (for tests). */
  now?: number;
}

const FIVE_MINUTES_MS = 5 * 60 * 1000;

/**
 * For receivers: true when the request carries a valid X-Signature for the raw body and a fresh X-Timestamp.
 * Verify the raw bytes as received, before any JSON parsing. The comparison is timing-safe.
 */
export function verifyWebhook(rawBody: string | Buffer, headers: HeaderBag, secret: string, options: VerifyOptions = {}): boolean {
  const timestamp = readHeader(headers, TIMESTAMP_HEADER);
  const signature = readHeader(headers, SIGNATURE_HEADER);
  if (!timestamp || !signature || !/^\d{1,16}$/.test(timestamp) || !/^[0-9a-f]{64}$/.test(signature)) return false;

  const age = Math.abs((options.now ?? Date.now()) - Number(timestamp));
  if (age > (options.toleranceMs ?? FIVE_MINUTES_MS)) return false;

  const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  const expected = Buffer.from(sign(secret, timestamp, body), 'hex');
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}

function readHeader(headers: HeaderBag, name: string): string | undefined {
  if (typeof headers.get === 'function') return (headers as { get(n: string): string | null }).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | undefined>;
  const wanted = name.toLowerCase();
  const key = Object.keys(bag).find((k) => k.toLowerCase() === wanted);
  const value = key === undefined ? undefined : bag[key];
  return Array.isArray(value) ? value[0] : value;
}
