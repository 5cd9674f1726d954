import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Admission, in one atomic step: refuse while the circuit is open; else drop lapsed leases and take one if
 * fewer than the cap are held. Leases are members of a sorted set scored by expiry (Redis time), so a worker
 * that dies mid-delivery frees its slot when its lease lapses instead of leaking it.
 * Returns {'open', openUntil} | {'busy', age of the oldest lease in ms} | {'ok', 1 if the circuit has state}.
 */
const ADMIT = `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local openUntil = tonumber(redis.call('HGET', KEYS[1], 'openUntil') or '0')
if openUntil > nowMs then return {'open', openUntil} end
local leaseMs = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', nowMs)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {'busy', nowMs - (tonumber(oldest[2]) - leaseMs)}
end
redis.call('ZADD', KEYS[2], nowMs + leaseMs, ARGV[3])
redis.call('PEXPIRE', KEYS[2], leaseMs)
return {'ok', redis.call('EXISTS', KEYS[1])}
`;

/**
 * The end of a delivery, in one atomic step: free the lease (unless it was handed to a waiting job) and feed
 * the outcome to the breaker. A success clears the breaker's state; a failure is counted, and after
 * `threshold` in a row the circuit opens for a cooldown that doubles with each consecutive trip (capped).
 * Both keys change together, so no job can take the freed slot without seeing the circuit this failure opened.
 * Returns the Unix ms until which this failure opened the circuit, else 0.
 */
const FINISH = `
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[2], ARGV[1]) end
if ARGV[2] == 'delivered' then
  redis.call('DEL', KEYS[1])
  return 0
end
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[6]))
if failures < tonumber(ARGV[3]) then return 0 end
local trips = redis.call('HINCRBY', KEYS[1], 'trips', 1)
local cooldown = math.min(tonumber(ARGV[4]) * math.pow(2, trips - 1), tonumber(ARGV[5]))
local now = redis.call('TIME')
local openUntil = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + cooldown
redis.call('HSET', KEYS[1], 'failures', 0, 'openUntil', openUntil)
return openUntil
`;

type StateRedis = Redis & {
  noveeAdmit(circuitKey: string, inflightKey: string, cap: number, leaseMs: number, leaseId: string): Promise<[string, number]>;
  noveeFinish(
    circuitKey: string,
    inflightKey: string,
    leaseId: string,
    outcome: 'delivered' | 'failed',
    threshold: number,
    baseMs: number,
    maxMs: number,
    ttlMs: number,
  ): Promise<number>;
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
  | { status: 'admitted'; leaseId: string; /** The breaker has state a success must clear. */ circuitDirty: boolean }
  | { status: 'open'; openUntil: number }
  | { status: 'busy'; /** How long the endpoint's oldest in-flight delivery has been running. */ oldestAgeMs: number };

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
    redis.defineCommand('noveeAdmit', { numberOfKeys: 2, lua: ADMIT });
    redis.defineCommand('noveeFinish', { numberOfKeys: 2, lua: FINISH });
    this.redis = redis as StateRedis;
  }

  async admit(endpoint: string): Promise<AdmitResult> {
    const leaseId = randomUUID();
    const [status, value] = await this.redis.noveeAdmit(
      this.circuitKey(endpoint),
      this.inflightKey(endpoint),
      this.options.maxInFlight,
      this.options.leaseMs,
      leaseId,
    );
    if (status === 'open') return { status, openUntil: value };
    if (status === 'busy') return { status, oldestAgeMs: value };
    return { status: 'admitted', leaseId, circuitDirty: value === 1 };
  }

  /**
   * Free `leaseId` (null: it was handed to another job) and record the outcome. Returns the time the circuit
   * opened until when this failure tripped it, else null.
   */
  async finish(endpoint: string, leaseId: string | null, delivered: boolean): Promise<number | null> {
    const { failureThreshold, cooldownMs, maxCooldownMs } = this.options;
    const openUntil = await this.redis.noveeFinish(
      this.circuitKey(endpoint),
      this.inflightKey(endpoint),
      leaseId ?? '',
      delivered ? 'delivered' : 'failed',
      failureThreshold,
      cooldownMs,
      maxCooldownMs,
      maxCooldownMs * 4,
    );
    return openUntil > 0 ? openUntil : null;
  }

  // The {hash tag} keeps both keys of an endpoint in one Redis Cluster slot, as a script touching both needs.
  private circuitKey(endpoint: string): string {
    return `${this.prefix}:endpoint:{${endpoint}}:circuit`;
  }

  private inflightKey(endpoint: string): string {
    return `${this.prefix}:endpoint:{${endpoint}}:inflight`;
  }
}
