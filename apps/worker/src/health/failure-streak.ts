import type { Redis } from 'ioredis';

/**
 * Since when every attempt to an endpoint has failed, in Redis (one small hash per failing endpoint), so the hot
 * path costs one round trip and MongoDB is written only when the streak starts, ends or disables the endpoint.
 * The first failure sets `since` (Redis time); a success deletes the hash. `notified` marks the streak whose
 * "failing" notice was sent, so it is sent once.
 * Returns {1 if this failure started the streak, since, now}.
 */
const FAILED = `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local since = redis.call('HGET', KEYS[1], 'since')
local started = 0
if not since then
  since = nowMs
  started = 1
  redis.call('HSET', KEYS[1], 'since', since)
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return {started, tonumber(since), nowMs}
`;

/** A success ends the streak. Returns since when it had been failing (0: it was not). */
const DELIVERED = `
local since = redis.call('HGET', KEYS[1], 'since')
if not since then return 0 end
redis.call('DEL', KEYS[1])
return tonumber(since)
`;

/** Claim the streak's one "failing" notice; never creates the hash (a success may just have deleted it). */
const CLAIM_NOTICE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], 'notified', '1')
`;

type StreakRedis = Redis & {
  noveeStreakFailed(key: string, ttlMs: number): Promise<[number, number, number]>;
  noveeStreakDelivered(key: string): Promise<number>;
  noveeStreakClaimNotice(key: string): Promise<number>;
};

export interface StreakFailure {
  /** This failure started the streak. */
  started: boolean;
  /** Unix ms of the streak's first failure. */
  since: number;
  /** Unix ms now (Redis time, the same clock as `since`). */
  now: number;
}

export class FailureStreak {
  private readonly redis: StreakRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    /** How long a streak is remembered after its last failure (an endpoint sent nothing meanwhile forgets it). */
    private readonly ttlMs: number,
  ) {
    redis.defineCommand('noveeStreakFailed', { numberOfKeys: 1, lua: FAILED });
    redis.defineCommand('noveeStreakDelivered', { numberOfKeys: 1, lua: DELIVERED });
    redis.defineCommand('noveeStreakClaimNotice', { numberOfKeys: 1, lua: CLAIM_NOTICE });
    this.redis = redis as StreakRedis;
  }

  async failed(projectId: string, epoch: number): Promise<StreakFailure> {
    const [started, since, now] = await this.redis.noveeStreakFailed(this.key(projectId, epoch), this.ttlMs);
    return { started: started === 1, since, now };
  }

  /** Returns when the streak this success ended had started (null: there was none). */
  async delivered(projectId: string, epoch: number): Promise<number | null> {
    const since = await this.redis.noveeStreakDelivered(this.key(projectId, epoch));
    return since > 0 ? since : null;
  }

  /** Once per streak: true the first time it is asked for this streak. */
  async claimNotice(projectId: string, epoch: number): Promise<boolean> {
    return (await this.redis.noveeStreakClaimNotice(this.key(projectId, epoch))) === 1;
  }

  /**
   * The epoch is when the registration was last (re-)enabled or given a new URL: a new epoch is a new key, so
   * re-enabling an endpoint starts its streak afresh without the API touching this state.
   */
  private key(projectId: string, epoch: number): string {
    return `${this.prefix}:health:{${projectId}}:${epoch}`;
  }
}
