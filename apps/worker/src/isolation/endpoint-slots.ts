import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Atomically: drop expired leases, and take a lease if fewer than `cap` are held. Leases are members of a
 * sorted set scored by expiry (Redis time), so a worker that dies mid-delivery frees its slot when its lease
 * lapses instead of leaking it forever.
 */
const ACQUIRE = `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowMs)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], nowMs + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
`;

type SlotRedis = Redis & {
  noveeAcquireSlot(key: string, cap: number, leaseMs: number, leaseId: string): Promise<number>;
};

/** Caps in-flight deliveries per endpoint across every worker process (state in Redis). */
export class EndpointSlots {
  private readonly redis: SlotRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly cap: number,
    /** Longer than a delivery can take (timeout + margin). */
    private readonly leaseMs: number,
  ) {
    redis.defineCommand('noveeAcquireSlot', { numberOfKeys: 1, lua: ACQUIRE });
    this.redis = redis as SlotRedis;
  }

  /** A lease id when a slot was free, null when the endpoint already has `cap` deliveries in flight. */
  async acquire(endpoint: string): Promise<string | null> {
    const leaseId = randomUUID();
    const taken = await this.redis.noveeAcquireSlot(this.key(endpoint), this.cap, this.leaseMs, leaseId);
    return taken === 1 ? leaseId : null;
  }

  async release(endpoint: string, leaseId: string): Promise<void> {
    await this.redis.zrem(this.key(endpoint), leaseId);
  }

  private key(endpoint: string): string {
    return `${this.prefix}:endpoint:${endpoint}:inflight`;
  }
}
