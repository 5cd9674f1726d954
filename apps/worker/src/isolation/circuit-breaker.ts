import type { Redis } from 'ioredis';

/**
 * Count a failure; after `threshold` failures in a row the circuit opens for a cooldown that doubles with
 * each consecutive trip (capped). Returns the Unix ms until which it is open, or 0 while still closed.
 */
const RECORD_FAILURE = `
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
if failures < tonumber(ARGV[1]) then return 0 end
local trips = redis.call('HINCRBY', KEYS[1], 'trips', 1)
local cooldown = math.min(tonumber(ARGV[2]) * math.pow(2, trips - 1), tonumber(ARGV[3]))
local now = redis.call('TIME')
local openUntil = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + cooldown
redis.call('HSET', KEYS[1], 'failures', 0, 'openUntil', openUntil)
return openUntil
`;

type BreakerRedis = Redis & {
  noveeRecordFailure(key: string, threshold: number, baseMs: number, maxMs: number, ttlMs: number): Promise<number>;
};

export interface CircuitBreakerOptions {
  /** Consecutive failed deliveries that open the circuit. */
  threshold: number;
  /** First cooldown; doubles on each trip that follows without a success in between. */
  cooldownMs: number;
  maxCooldownMs: number;
}

/**
 * Per-endpoint circuit breaker shared by all worker processes (state in Redis). While open, that endpoint's
 * jobs are delayed without an HTTP attempt, so a dead receiver stops occupying worker slots. When the
 * cooldown ends, deliveries are let through again (bounded by the endpoint's slots); one success closes it.
 */
export class CircuitBreaker {
  private readonly redis: BreakerRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly options: CircuitBreakerOptions,
  ) {
    redis.defineCommand('noveeRecordFailure', { numberOfKeys: 1, lua: RECORD_FAILURE });
    this.redis = redis as BreakerRedis;
  }

  /** Unix ms until which the endpoint's circuit is open, or null when deliveries may go. */
  async openUntil(endpoint: string, now = Date.now()): Promise<number | null> {
    const openUntil = Number(await this.redis.hget(this.key(endpoint), 'openUntil'));
    return openUntil > now ? openUntil : null;
  }

  async recordSuccess(endpoint: string): Promise<void> {
    await this.redis.del(this.key(endpoint));
  }

  /** Returns the time the circuit opened until when this failure tripped it, else null. */
  async recordFailure(endpoint: string): Promise<number | null> {
    const { threshold, cooldownMs, maxCooldownMs } = this.options;
    const ttlMs = maxCooldownMs * 4;
    const openUntil = await this.redis.noveeRecordFailure(this.key(endpoint), threshold, cooldownMs, maxCooldownMs, ttlMs);
    return openUntil > 0 ? openUntil : null;
  }

  private key(endpoint: string): string {
    return `${this.prefix}:endpoint:${endpoint}:circuit`;
  }
}
