/**
 * When failed deliveries are retried: delays after attempt 1, 2, ... Default about a day in all:
 * 5s, 5m, 30m, 2h, 5h, 10h (7 attempts). Configure with RETRY_SCHEDULE, e.g. "5s,5m,30m,2h,5h,10h".
 */
export const DEFAULT_RETRY_SCHEDULE = '5s,5m,30m,2h,5h,10h';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "5s,5m,2h" -> [5000, 300000, 7200000]; throws naming the bad part. "none" (or empty) means no retries. */
export function parseRetrySchedule(text: string): number[] {
  if (text.trim() === '' || text.trim() === 'none') return [];
  return text.split(',').map((part) => {
    const match = /^\s*(\d+)(ms|s|m|h|d)\s*$/.exec(part);
    if (!match) throw new Error(`RETRY_SCHEDULE: "${part.trim()}" is not a duration like 500ms, 5s, 5m, 2h or 1d`);
    return Number(match[1]) * UNIT_MS[match[2]!]!;
  });
}

/** Attempts in all: the first one plus one per scheduled retry. */
export const attemptsFor = (schedule: number[]) => schedule.length + 1;

/** Each retry delay is stretched or shrunk at random by up to this share of it. */
const JITTER = 0.2;

/**
 * The delay before retry number `retry` (1-based), with ±20% jitter so that a receiver that comes back
 * is not hit by every queued retry in the same instant. Beyond the schedule, the last delay repeats.
 */
export function retryDelay(schedule: number[], retry: number, random: () => number = Math.random): number {
  if (schedule.length === 0) return 0;
  const base = schedule[Math.min(retry, schedule.length) - 1]!;
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}

/** How long the whole schedule takes, without jitter. */
export const scheduleSpanMs = (schedule: number[]) => schedule.reduce((sum, delay) => sum + delay, 0);

/**
 * An event's retry window, from its enqueue: the schedule at its longest jitter, plus a minute for the queue's
 * own latency. Past it, the worker makes the event's attempts even past an open circuit or a receiver's pause,
 * so its last attempt is never skipped.
 */
export const retryWindowMs = (schedule: number[]) => scheduleSpanMs(schedule) * (1 + JITTER) + 60_000;
