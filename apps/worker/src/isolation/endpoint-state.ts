import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/*
 * The circuit breaker's state per endpoint is one hash: `failures` (consecutive, in the current generation),
 * `trips` (consecutive openings without a success), `openUntil` (Unix ms; > 0 while open or half-open),
 * `probeUntil` (a half-open probe's lease expiry) and `gen`, the generation, which changes on every change of
 * state (open, re-open, close). An attempt carries the generation it was admitted in, and its outcome counts
 * only if the generation is still the same: failures of deliveries that were already in flight when the circuit
 * opened say nothing new, so they can neither trip it a second time nor double its cooldown.
 *
 * A third key, `pause`, holds the Unix ms before which no delivery to the endpoint starts because the receiver
 * asked us to wait (429 or 503 with Retry-After). It is not the breaker: such an answer counts as no failure.
 */

/**
 * Admission, in one atomic step: refuse while the receiver asked us to wait (pause); refuse while the circuit is open; once its cooldown is over (half-open) admit
 * exactly one probe at a time; else drop lapsed leases and take one if fewer than the cap are held. Leases are
 * members of a sorted set scored by expiry (Redis time), so a worker that dies mid-delivery frees its slot when
 * its lease lapses instead of leaking it. ARGV[4] = '1' lets the attempt past the breaker (an event whose retry
 * window is over still gets its last attempt; nor does a pause hold it): it takes a lease but, with generation -1,
 * its outcome is not counted.
 * Returns {'paused', pausedUntil} | {'open', openUntil} | {'probing', probeUntil} | {'busy', age of the oldest lease in ms}
 *       | {'ok', 1 if the breaker has state a success must clear, generation, 1 if this is the probe}.
 */
const ADMIT = `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if ARGV[4] ~= '1' then
  local pausedUntil = tonumber(redis.call('GET', KEYS[3]) or '0')
  if pausedUntil > nowMs then return {'paused', pausedUntil} end
end
local c = redis.call('HMGET', KEYS[1], 'openUntil', 'probeUntil', 'gen', 'failures')
local openUntil = tonumber(c[1] or '0')
local probe = 0
local gen = tonumber(c[3] or '0')
if ARGV[4] == '1' then
  gen = -1
elseif openUntil > 0 then
  if openUntil > nowMs then return {'open', openUntil} end
  local probeUntil = tonumber(c[2] or '0')
  if probeUntil > nowMs then return {'probing', probeUntil} end
  probe = 1
end
local leaseMs = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', nowMs)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {'busy', nowMs - (tonumber(oldest[2]) - leaseMs)}
end
redis.call('ZADD', KEYS[2], nowMs + leaseMs, ARGV[3])
redis.call('PEXPIRE', KEYS[2], leaseMs)
if probe == 1 then redis.call('HSET', KEYS[1], 'probeUntil', nowMs + leaseMs) end
local dirty = 0
if openUntil > 0 or tonumber(c[4] or '0') > 0 then dirty = 1 end
return {'ok', dirty, gen, probe}
`;

/**
 * The end of a delivery, in one atomic step: free the lease (unless it was handed to a waiting job) and feed
 * the outcome to the breaker, if the attempt was admitted in the current generation. A success closes the
 * circuit (new generation). A failure is counted; after `threshold` in a row the circuit opens, and a failed
 * half-open probe re-opens it, each time for a cooldown that doubles per consecutive trip (capped).
 * Both keys change together, so no job can take the freed slot without seeing the circuit this failure opened.
 * Outcome 'throttled' (the receiver asked to wait ARGV[8] ms): no failure; the endpoint is paused until then (a
 * later pause wins), and a throttled half-open probe ends its probe, so that one can follow the pause.
 * Returns {'opened', Unix ms until which it is open} | {'closed', 0} | {'none', 0}.
 */
const FINISH = `
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[2], ARGV[1]) end
local c = redis.call('HMGET', KEYS[1], 'gen', 'failures', 'openUntil', 'trips')
local gen = tonumber(c[1] or '0')
if ARGV[2] == 'throttled' then
  local pauseMs = tonumber(ARGV[8])
  local now = redis.call('TIME')
  local untilMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + pauseMs
  if pauseMs > 0 and untilMs > tonumber(redis.call('GET', KEYS[3]) or '0') then
    redis.call('SET', KEYS[3], untilMs, 'PX', pauseMs)
  end
  if tonumber(ARGV[7]) == gen and tonumber(c[3] or '0') > 0 then redis.call('HSET', KEYS[1], 'probeUntil', 0) end
  return {'none', 0}
end
if tonumber(ARGV[7]) ~= gen then return {'none', 0} end
local failures = tonumber(c[2] or '0')
local openUntil = tonumber(c[3] or '0')
local ttl = tonumber(ARGV[6])
if ARGV[2] == 'delivered' then
  if failures == 0 and openUntil == 0 then return {'none', 0} end
  redis.call('HSET', KEYS[1], 'gen', gen + 1, 'failures', 0, 'trips', 0, 'openUntil', 0, 'probeUntil', 0)
  redis.call('PEXPIRE', KEYS[1], ttl)
  if openUntil > 0 then return {'closed', 0} end
  return {'none', 0}
end
if openUntil == 0 then
  failures = failures + 1
  if failures < tonumber(ARGV[3]) then
    redis.call('HSET', KEYS[1], 'failures', failures)
    redis.call('PEXPIRE', KEYS[1], ttl)
    return {'none', 0}
  end
end
local trips = tonumber(c[4] or '0') + 1
local cooldown = math.min(tonumber(ARGV[4]) * math.pow(2, trips - 1), tonumber(ARGV[5]))
local now = redis.call('TIME')
local untilMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + cooldown
redis.call('HSET', KEYS[1], 'gen', gen + 1, 'failures', 0, 'trips', trips, 'openUntil', untilMs, 'probeUntil', 0)
redis.call('PEXPIRE', KEYS[1], ttl)
return {'opened', untilMs}
`;

type StateRedis = Redis & {
  noveeAdmit(
    circuitKey: string,
    inflightKey: string,
    pauseKey: string,
    cap: number,
    leaseMs: number,
    leaseId: string,
    ignoreCircuit: '0' | '1',
  ): Promise<[string, number, number?, number?]>;
  noveeFinish(
    circuitKey: string,
    inflightKey: string,
    pauseKey: string,
    leaseId: string,
    outcome: 'delivered' | 'failed' | 'throttled',
    threshold: number,
    baseMs: number,
    maxMs: number,
    ttlMs: number,
    generation: number,
    pauseMs: number,
  ): Promise<[string, number]>;
};

export interface EndpointStateOptions {
  /** Deliveries in flight to one endpoint across all workers. */
  maxInFlight: number;
  /** Longer than a delivery can take (timeout + margin). */
  leaseMs: number;
  /** Consecutive failed deliveries that open the circuit. */
  failureThreshold: number;
  /** First cooldown; doubles on each trip that follows without a success in between. */
  cooldownMs: number;
  maxCooldownMs: number;
}

export type AdmitResult =
  | {
      status: 'admitted';
      leaseId: string;
      /** The breaker has state a success must clear. */
      circuitDirty: boolean;
      /** The breaker's generation at admission: the outcome counts only while it is unchanged. */
      generation: number;
      /** This delivery is the half-open probe: its outcome closes or re-opens the circuit. */
      probe: boolean;
    }
  | { status: 'paused'; /** The receiver asked us not to send before this (Unix ms). */ pausedUntil: number }
  | { status: 'open'; openUntil: number }
  | { status: 'probing'; /** When the probe in flight will have ended at the latest. */ probeUntil: number }
  | { status: 'busy'; /** How long the endpoint's oldest in-flight delivery has been running. */ oldestAgeMs: number };

/** What a finished delivery did to the circuit. */
export type CircuitChange = { change: 'opened'; openUntil: number } | { change: 'closed' } | null;

/**
 * Per-endpoint isolation state shared by every worker process, in Redis: the in-flight cap (leases) and the
 * circuit breaker. Each side of a delivery is one script, so isolation costs at most two round trips.
 */
export class EndpointState {
  private readonly redis: StateRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly options: EndpointStateOptions,
  ) {
    redis.defineCommand('noveeAdmit', { numberOfKeys: 3, lua: ADMIT });
    redis.defineCommand('noveeFinish', { numberOfKeys: 3, lua: FINISH });
    this.redis = redis as StateRedis;
  }

  /** `ignoreCircuit`: admit past an open circuit (still within the in-flight cap); the outcome is not counted. */
  async admit(endpoint: string, { ignoreCircuit = false } = {}): Promise<AdmitResult> {
    const leaseId = randomUUID();
    const [status, value, generation, probe] = await this.redis.noveeAdmit(
      this.circuitKey(endpoint),
      this.inflightKey(endpoint),
      this.pauseKey(endpoint),
      this.options.maxInFlight,
      this.options.leaseMs,
      leaseId,
      ignoreCircuit ? '1' : '0',
    );
    if (status === 'paused') return { status, pausedUntil: value };
    if (status === 'open') return { status, openUntil: value };
    if (status === 'probing') return { status, probeUntil: value };
    if (status === 'busy') return { status, oldestAgeMs: value };
    return { status: 'admitted', leaseId, circuitDirty: value === 1, generation: generation ?? 0, probe: probe === 1 };
  }

  /**
   * Free `leaseId` (null: it was handed to another job) and record the outcome of a delivery admitted in
   * `generation`. `pauseMs` (a failure only): the receiver asked us to wait this long (429/503 with
   * Retry-After), so the endpoint is paused for it and the failure is not counted by the breaker.
   * Returns what this outcome did to the circuit.
   */
  async finish(endpoint: string, leaseId: string | null, delivered: boolean, generation: number, pauseMs?: number): Promise<CircuitChange> {
    const { failureThreshold, cooldownMs, maxCooldownMs } = this.options;
    const [change, openUntil] = await this.redis.noveeFinish(
      this.circuitKey(endpoint),
      this.inflightKey(endpoint),
      this.pauseKey(endpoint),
      leaseId ?? '',
      delivered ? 'delivered' : pauseMs === undefined ? 'failed' : 'throttled',
      failureThreshold,
      cooldownMs,
      maxCooldownMs,
      // The state outlives the longest cooldown, so an idle endpoint's breaker does not forget a trip too soon.
      Math.max(maxCooldownMs * 4, 600_000),
      generation,
      Math.max(0, Math.round(pauseMs ?? 0)),
    );
    if (change === 'opened') return { change, openUntil };
    if (change === 'closed') return { change };
    return null;
  }

  /** Free a slot held by a delivery that will never finish (its worker died). */
  async release(endpoint: string, leaseId: string): Promise<void> {
    await this.redis.zrem(this.inflightKey(endpoint), leaseId);
  }

  // The {hash tag} keeps both keys of an endpoint in one Redis Cluster slot, as a script touching both needs.
  private circuitKey(endpoint: string): string {
    return `${this.prefix}:endpoint:{${endpoint}}:circuit`;
  }

  private pauseKey(endpoint: string): string {
    return `${this.prefix}:endpoint:{${endpoint}}:pause`;
  }

  private inflightKey(endpoint: string): string {
    return `${this.prefix}:endpoint:{${endpoint}}:inflight`;
  }
}
