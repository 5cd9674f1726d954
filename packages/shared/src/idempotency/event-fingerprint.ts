import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so that the same event serialized differently compares equal. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * What an Idempotency-Key is bound to besides the project: a digest of the event (envelope and data), so a
 * key reused for a different event is refused instead of silently answering with the first event's id.
 * Key order does not matter (a pipeline's retry may serialize the same object differently).
 */
export function eventFingerprint(event: unknown): string {
  return createHash('sha256').update(canonicalJson(event)).digest('base64url');
}
