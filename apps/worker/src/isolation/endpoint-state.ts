import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LIMIT_RULE, STUCK_FACTOR, type LimitCut, type LimitSignal, type LimitState } from './concurrency-limit';

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
 * exactly one probe at a time; else drop lapsed leases and take one if fewer than the endpoint's limit are held.
 * The limit is the adaptive one FINISH keeps in the circuit hash (`limit`, see concurrency-limit.ts; ARGV[5], the
 * initial limit, until there is one), at most ARGV[1] (the ceiling); while the oldest lease has run longer than
 * max(ARGV[6] ms, ARGV[7] x the endpoint's baseline latency) the endpoint is hanging and admits no more than the
 * initial limit. Leases are members of a sorted set scored by expiry (Redis time), so a worker that dies
 * mid-delivery frees its slot when its lease lapses instead of leaking it. ARGV[4] = '1' lets the attempt past the
 * breaker (an event whose retry window is over still gets its last attempt; nor does a pause hold it): it takes a
 * lease but, with generation -1, its outcome is not counted by the breaker. ARGV[8]: how many leases beyond the
 * limit this attempt may take (an urgent event's headroom: a fall is not queued behind vitals; never while hanging).
 * Returns {'paused', pausedUntil} | {'open', openUntil} | {'probing', probeUntil}
 *       | {'busy', age of the oldest lease in ms, 1 if the endpoint counts as hanging}
 *       | {'ok', 1 if the breaker has state a success must clear, generation, 1 if this is the probe}.
 */
const ADMIT = `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if ARGV[4] ~= '1' then
  local pausedUntil = tonumber(redis.call('GET', KEYS[3]) or '0')
  if pausedUntil > nowMs then return {'paused', pausedUntil} end
end
local c = redis.call('HMGET', KEYS[1], 'openUntil', 'probeUntil', 'gen', 'failures', 'limit', 'baseline')
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
local initial = tonumber(ARGV[5])
local cap = math.min(math.floor(tonumber(c[5] or ARGV[5])), tonumber(ARGV[1]))
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', nowMs)
local held = redis.call('ZCARD', KEYS[2])
if held >= math.min(cap, initial) then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  local age = nowMs - (tonumber(oldest[2]) - leaseMs)
  local stuck = 0
  if age >= math.max(tonumber(ARGV[6]), tonumber(ARGV[7]) * tonumber(c[6] or '0')) then stuck = 1 end
  if held >= cap + tonumber(ARGV[8]) or stuck == 1 then return {'busy', age, stuck} end
end
redis.call('ZADD', KEYS[2], nowMs + leaseMs, ARGV[3])
redis.call('PEXPIRE', KEYS[2], leaseMs)
if probe == 1 then redis.call('HSET', KEYS[1], 'probeUntil', nowMs + leaseMs) end
local dirty = 0
if openUntil > 0 or tonumber(c[4] or '0') > 0 then dirty = 1 end
return {'ok', dirty, gen, probe}
`;

/**
 * The end of a delivery, in one atomic step: free the lease (unless it was handed to a waiting job), update the
 * endpoint's adaptive limit with the attempt's signal (ARGV[9]: 'ok' | 'overload' | 'none') and duration (ARGV[10]),
 * and feed the outcome to the breaker, if the attempt was admitted in the current generation.
 * The limit update mirrors nextLimit in concurrency-limit.ts line for line (ARGV[11..20]: initial, ceiling and the
 * rule's constants); it counts every attempt, whatever its generation.
 * A success closes the circuit (new generation). A failure is counted; after `threshold` in a row the circuit
 * opens, and a failed half-open probe re-opens it, each time for a cooldown that doubles per consecutive trip (capped).
 * Both keys change together, so no job can take the freed slot without seeing the circuit this failure opened.
 * Outcome 'throttled' (the receiver asked to wait ARGV[8] ms): no failure; the endpoint is paused until then (a
 * later pause wins), and a throttled half-open probe ends its probe, so that one can follow the pause.
 * Returns {'opened' | 'closed' | 'none', Unix ms until which it is open (or 0), limit, in flight before this
 * lease was freed, baseline ms, '' | 'overload' | 'latency' (what cut the limit)}; limit and baseline as strings.
 */
const FINISH = `
local inFlight = redis.call('ZCARD', KEYS[2])
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[2], ARGV[1]) end
local ttl = tonumber(ARGV[6])

local l = redis.call('HMGET', KEYS[1], 'limit', 'baseline', 'rtt', 'cutAt', 'slowStart')
local ceiling = tonumber(ARGV[12])
local limit = math.min(tonumber(ARGV[11]), ceiling)
if l[1] then limit = tonumber(l[1]) end
local baseline = tonumber(l[2] or '0')
local rtt = tonumber(l[3] or '0')
local cutAt = tonumber(l[4] or '0')
local slowStart = l[5] ~= '0'
local cut = ''
if ARGV[9] ~= 'none' then
  local minLimit, backoff, cutWindow = tonumber(ARGV[13]), tonumber(ARGV[14]), tonumber(ARGV[15])
  local tolerance, slack, rttWeight = tonumber(ARGV[16]), tonumber(ARGV[17]), tonumber(ARGV[18])
  local drift, precision = tonumber(ARGV[19]), tonumber(ARGV[20])
  local function round(x) return math.floor(x * precision + 0.5) / precision end
  local t = redis.call('TIME')
  local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local function tryCut(reason)
    if nowMs - cutAt >= math.max(cutWindow, 2 * rtt) then
      limit = round(math.max(minLimit, limit * backoff))
      cutAt = nowMs
      slowStart = false
      cut = reason
    end
  end
  local function grow()
    if inFlight * 2 >= limit then
      local step = 1
      if not slowStart then step = 1 / limit end
      limit = round(math.min(ceiling, limit + step))
    end
  end
  if ARGV[9] == 'overload' then
    tryCut('overload')
  else
    local d = math.max(0, tonumber(ARGV[10]))
    if baseline == 0 or d < baseline then baseline = round(d) else baseline = round(baseline + ((d - baseline) * drift) / limit) end
    if rtt == 0 then rtt = round(d) else rtt = round(rtt + (d - rtt) * rttWeight) end
    if rtt > baseline * tolerance + slack then tryCut('latency') else grow() end
  end
  local ss = '0'
  if slowStart then ss = '1' end
  redis.call('HSET', KEYS[1], 'limit', tostring(limit), 'baseline', tostring(baseline), 'rtt', tostring(rtt), 'cutAt', cutAt, 'slowStart', ss)
  redis.call('PEXPIRE', KEYS[1], ttl)
end
local function reply(change, untilMs) return {change, untilMs, tostring(limit), inFlight, tostring(baseline), cut} end

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
  return reply('none', 0)
end
if tonumber(ARGV[7]) ~= gen then return reply('none', 0) end
local failures = tonumber(c[2] or '0')
local openUntil = tonumber(c[3] or '0')
if ARGV[2] == 'delivered' then
  if failures == 0 and openUntil == 0 then return reply('none', 0) end
  redis.call('HSET', KEYS[1], 'gen', gen + 1, 'failures', 0, 'trips', 0, 'openUntil', 0, 'probeUntil', 0)
  redis.call('PEXPIRE', KEYS[1], ttl)
  if openUntil > 0 then return reply('closed', 0) end
  return reply('none', 0)
end
if openUntil == 0 then
  failures = failures + 1
  if failures < tonumber(ARGV[3]) then
    redis.call('HSET', KEYS[1], 'failures', failures)
    redis.call('PEXPIRE', KEYS[1], ttl)
    return reply('none', 0)
  end
end
local trips = tonumber(c[4] or '0') + 1
local cooldown = math.min(tonumber(ARGV[4]) * math.pow(2, trips - 1), tonumber(ARGV[5]))
local now = redis.call('TIME')
local untilMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + cooldown
redis.call('HSET', KEYS[1], 'gen', gen + 1, 'failures', 0, 'trips', trips, 'openUntil', untilMs, 'probeUntil', 0)
redis.call('PEXPIRE', KEYS[1], ttl)
return reply('opened', untilMs)
`;

type StateRedis = Redis & {
  noveeAdmit(
    circuitKey: string,
    inflightKey: string,
    pauseKey: string,
    ceiling: number,
    leaseMs: number,
    leaseId: string,
    ignoreCircuit: '0' | '1',
    initial: number,
    stuckAfterMs: number,
    stuckFactor: number,
    headroom: number,
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
    signal: LimitSignal,
    durationMs: number,
    initial: number,
    ceiling: number,
    ...rule: number[]
  ): Promise<[string, number, string, number, string, '' | 'overload' | 'latency']>;
};

export interface EndpointStateOptions {
  /** The ceiling of an endpoint's adaptive limit: deliveries in flight to it across all workers. */
  maxInFlight: number;
  /** Where an endpoint's limit starts (and the most a hanging endpoint admits); at most maxInFlight. */
  initialInFlight: number;
  /** An endpoint counts as hanging once its oldest delivery has run this long (or 8x its baseline, if longer). */
  stuckAfterMs: number;
  /** Longer than a delivery can take (timeout + margin). */
  leaseMs: number;
  /** Consecutive failed deliveries that open the circuit. */
  failureThreshold: number;
  /** First cooldown; doubles on each trip that follows without a success in between. */
  cooldownMs: number;
  maxCooldownMs: number;
  /** Called after each finish with the limit's state (whether or not the answer moved it), for metrics. */
  onLimit?: (limit: LimitObservation) => void;
}

/** An endpoint's limit after a finished delivery, for metrics. */
export interface LimitObservation {
  limit: number;
  /** In flight when the delivery ended, itself included. */
  inFlight: number;
  baselineMs: number;
  cut: LimitCut;
}

/** What a finished delivery tells the limit: its signal (see limitSignal) and how long the exchange took. */
export interface LimitFeedback {
  signal: LimitSignal;
  durationMs: number;
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
  | {
      status: 'busy';
      /** How long the endpoint's oldest in-flight delivery has been running. */
      oldestAgeMs: number;
      /** That is much longer than the endpoint usually takes: it is hanging, and no slot frees soon. */
      stuck: boolean;
    };

/** What a finished delivery did to the circuit. */
export type CircuitChange = { change: 'opened'; openUntil: number } | { change: 'closed' } | null;

/**
 * Per-endpoint isolation state shared by every worker process, in Redis: the adaptive in-flight limit (leases),
 * and the circuit breaker. Each side of a delivery is one script, so isolation costs at most two round trips.
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

  /** `ignoreCircuit`: admit past an open circuit (still within the in-flight limit); the outcome is not counted. */
  /** `headroom`: leases this attempt may take beyond the endpoint's limit (urgent events; see EndpointGuard). */
  async admit(endpoint: string, { ignoreCircuit = false, headroom = 0 } = {}): Promise<AdmitResult> {
    const leaseId = randomUUID();
    const [status, value, generation, probe] = await this.redis.noveeAdmit(
      this.circuitKey(endpoint),
      this.inflightKey(endpoint),
      this.pauseKey(endpoint),
      this.options.maxInFlight,
      this.options.leaseMs,
      leaseId,
      ignoreCircuit ? '1' : '0',
      Math.min(this.options.initialInFlight, this.options.maxInFlight),
      this.options.stuckAfterMs,
      STUCK_FACTOR,
      headroom,
    );
    if (status === 'paused') return { status, pausedUntil: value };
    if (status === 'open') return { status, openUntil: value };
    if (status === 'probing') return { status, probeUntil: value };
    if (status === 'busy') return { status, oldestAgeMs: value, stuck: generation === 1 };
    return { status: 'admitted', leaseId, circuitDirty: value === 1, generation: generation ?? 0, probe: probe === 1 };
  }

  /**
   * Free `leaseId` (null: it was handed to another job), feed `feedback` to the endpoint's limit (none: the limit
   * is left alone) and record the outcome of a delivery admitted in `generation`. `pauseMs` (a failure only): the
   * receiver asked us to wait this long (429/503 with Retry-After), so the endpoint is paused for it and the
   * failure is not counted by the breaker. Returns what this outcome did to the circuit.
   */
  async finish(
    endpoint: string,
    leaseId: string | null,
    delivered: boolean,
    generation: number,
    pauseMs?: number,
    feedback: LimitFeedback = { signal: 'none', durationMs: 0 },
  ): Promise<CircuitChange> {
    const { failureThreshold, cooldownMs, maxCooldownMs } = this.options;
    const r = LIMIT_RULE;
    const [change, openUntil, limit, inFlight, baseline, cut] = await this.redis.noveeFinish(
      this.circuitKey(endpoint),
      this.inflightKey(endpoint),
      this.pauseKey(endpoint),
      leaseId ?? '',
      delivered ? 'delivered' : pauseMs === undefined ? 'failed' : 'throttled',
      failureThreshold,
      cooldownMs,
      maxCooldownMs,
      // The state outlives the longest cooldown, so an idle endpoint's breaker does not forget a trip too soon.
      // (An endpoint idle that long starts again from the initial limit.)
      Math.max(maxCooldownMs * 4, 600_000),
      generation,
      Math.max(0, Math.round(pauseMs ?? 0)),
      feedback.signal,
      Math.max(0, Math.round(feedback.durationMs)),
      this.options.initialInFlight,
      this.options.maxInFlight,
      ...[r.min, r.backoff, r.cutWindowMs, r.tolerance, r.slackMs, r.rttWeight, r.baselineDrift, r.precision],
    );
    this.options.onLimit?.({ limit: Number(limit), inFlight, baselineMs: Number(baseline), cut: cut || null });
    if (change === 'opened') return { change, openUntil };
    if (change === 'closed') return { change };
    return null;
  }

  /** An endpoint's adaptive limit as Redis holds it (null: no delivery fed it yet, or it was idle long enough to forget). */
  async limitOf(endpoint: string): Promise<(LimitState & { inFlight: number }) | null> {
    const [[, fields], [, inFlight]] = (await this.redis
      .multi()
      .hmget(this.circuitKey(endpoint), 'limit', 'baseline', 'rtt', 'cutAt', 'slowStart')
      .zcard(this.inflightKey(endpoint))
      .exec()) as [[null, (string | null)[]], [null, number]];
    const [limit, baseline, rtt, cutAt, slowStart] = fields;
    if (limit == null) return null;
    return {
      limit: Number(limit),
      baselineMs: Number(baseline),
      rttMs: Number(rtt),
      cutAt: Number(cutAt),
      slowStart: slowStart !== '0',
      inFlight,
    };
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
