/*
 * The adaptive in-flight limit of one endpoint (AIMD with a latency gradient, after TCP and Netflix's
 * concurrency-limits). This is the rule; endpoint-state.ts applies the same rule atomically in Redis (Lua), so
 * every worker process shares one limit per endpoint. Keep the two in step: a test runs both on the same
 * sequence of outcomes and compares them.
 */

/** What one finished delivery says about the endpoint's load. */
export type LimitSignal =
  /** 2xx: a latency sample. */
  | 'ok'
  /** Timeout, connection error, 5xx, 429, 408: the receiver is overloaded or down. */
  | 'overload'
  /** Anything else (3xx, other 4xx, a blocked URL): nothing about load. */
  | 'none';

export interface LimitRule {
  /** Where a new (or long idle) endpoint starts. */
  initial: number;
  /** The ceiling (ENDPOINT_MAX_IN_FLIGHT). */
  max: number;
}

/** The rule's constants (not configuration: they are the algorithm). */
export const LIMIT_RULE = {
  /** Floor. */
  min: 1,
  /** A cut multiplies the limit by this. */
  backoff: 0.5,
  /** At most one cut per this window (or two smoothed RTTs, if longer): simultaneous failures cut once. */
  cutWindowMs: 250,
  /** Latency counts as risen when the smoothed RTT exceeds tolerance x baseline + slack... */
  tolerance: 2,
  /** ...the slack absorbing a few ms of jitter that is ours (event loop, loopback), not the receiver's. */
  slackMs: 10,
  /** Weight of a new sample in the smoothed (short-term) RTT. */
  rttWeight: 0.2,
  /**
   * The baseline is a decaying minimum: a faster answer replaces it, a slower one pulls it up by this share per
   * round trip (this / limit per answer, so a high limit does not make it follow faster), so it tracks the
   * endpoint's unloaded latency and follows a lasting change within some tens of round trips.
   */
  baselineDrift: 0.05,
  /** Limits are kept to 3 decimals (Redis stores them as strings; the Lua mirror rounds the same way). */
  precision: 1_000,
} as const;

export interface LimitState {
  /** Fractional: additive increase adds 1/limit per answer. Admission uses its floor. */
  limit: number;
  /** Decaying minimum of the answers' durations (ms); 0 before the first. */
  baselineMs: number;
  /** Smoothed recent duration (ms); 0 before the first. */
  rttMs: number;
  /** When the limit was last cut (Unix ms; 0: never). */
  cutAt: number;
  /** Slow start (+1 per answer, doubling per round trip) until the first cut; then +1 per round trip. */
  slowStart: boolean;
}

export interface LimitSample {
  signal: LimitSignal;
  durationMs: number;
  /** The endpoint's deliveries in flight across all workers when this one ended, itself included. */
  inFlight: number;
  nowMs: number;
}

export type LimitCut = 'overload' | 'latency' | null;

export function initialLimitState(rule: LimitRule): LimitState {
  return { limit: Math.min(rule.initial, rule.max), baselineMs: 0, rttMs: 0, cutAt: 0, slowStart: true };
}

/**
 * The limit after one finished delivery:
 * - overload (timeout, 5xx, 429, connection error): cut x0.5 (floor 1), at most once per window; ends slow start.
 * - 2xx: update the baseline and the smoothed RTT; if the smoothed RTT has risen well above the baseline, cut
 *   the same way; else, if the limit is in use (at least half of it in flight), raise it (+1 per answer in
 *   slow start, +1/limit after), up to the ceiling. An endpoint sent little never grows.
 */
export function nextLimit(state: LimitState, sample: LimitSample, rule: LimitRule): { state: LimitState; cut: LimitCut } {
  const r = LIMIT_RULE;
  if (sample.signal === 'none') return { state, cut: null };
  const { cutAt, slowStart } = state;
  let { limit, baselineMs, rttMs } = state;
  const cut = (reason: Exclude<LimitCut, null>) => {
    // Once per window: the failures of deliveries that were in flight together say the same thing once.
    if (sample.nowMs - cutAt < Math.max(r.cutWindowMs, 2 * rttMs))
      return { state: { limit, baselineMs, rttMs, cutAt, slowStart }, cut: null };
    const next = { limit: round(Math.max(r.min, limit * r.backoff)), baselineMs, rttMs, cutAt: sample.nowMs, slowStart: false };
    return { state: next, cut: reason };
  };
  if (sample.signal === 'overload') return cut('overload');
  const grow = () => {
    if (sample.inFlight * 2 >= limit) limit = round(Math.min(rule.max, limit + (slowStart ? 1 : 1 / limit)));
    return { state: { limit, baselineMs, rttMs, cutAt, slowStart }, cut: null };
  };

  const d = Math.max(0, sample.durationMs);
  baselineMs = round(baselineMs === 0 || d < baselineMs ? d : baselineMs + ((d - baselineMs) * r.baselineDrift) / limit);
  rttMs = round(rttMs === 0 ? d : rttMs + (d - rttMs) * r.rttWeight);
  if (rttMs > baselineMs * r.tolerance + r.slackMs) return cut('latency');
  return grow();
}

/** The signal a delivery's result gives: a 2xx, an overload (no answer, 5xx, 429, 408), or nothing. */
export function limitSignal(result: { ok: boolean; statusCode?: number; error?: string }): LimitSignal {
  if (result.ok) return 'ok';
  const status = result.statusCode;
  if (status === undefined) return result.error?.startsWith('blocked:') ? 'none' : 'overload';
  return status >= 500 || status === 429 || status === 408 ? 'overload' : 'none';
}

/**
 * An endpoint whose oldest delivery in flight has run this long is treated as hanging: it admits no more than its
 * initial limit, so a fast endpoint that hangs cannot take more slots before timeouts cut its limit.
 */
export function stuckAfterMs(baselineMs: number, floorMs: number): number {
  return Math.max(floorMs, STUCK_FACTOR * baselineMs);
}
export const STUCK_FACTOR = 8;

const round = (value: number) => Math.round(value * LIMIT_RULE.precision) / LIMIT_RULE.precision;
