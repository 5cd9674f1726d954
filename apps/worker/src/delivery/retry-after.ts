/**
 * A receiver's `Retry-After` (RFC 9110: delay in seconds, or an HTTP date) as a delay in ms from `nowMs`;
 * undefined when absent or unreadable (then the schedule alone decides). A date in the past is 0.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1_000;
  // Only something that looks like a date (IMF-fixdate, or the obsolete forms Date.parse also reads).
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** The statuses whose Retry-After is honoured (too many requests, unavailable). */
export const isThrottleStatus = (statusCode: number | undefined) => statusCode === 429 || statusCode === 503;

/**
 * The delay before a failed event's next attempt (as Svix's calculate_retry_delay): the schedule's, stretched to
 * what the receiver asked for (already capped by RETRY_AFTER_MAX_MS), but never past the end of the event's retry
 * window, so a Retry-After cannot push an attempt beyond the span the schedule promises.
 */
export function stretchRetryDelay(scheduledMs: number, retryAfterMs: number | undefined, windowLeftMs: number): number {
  if (retryAfterMs === undefined || retryAfterMs <= scheduledMs) return scheduledMs;
  return Math.max(scheduledMs, Math.min(retryAfterMs, windowLeftMs));
}
