import IORedis, { type Redis } from 'ioredis';

/**
 * producer: fail fast when Redis is down (the API answers 503 instead of hanging).
 * worker: BullMQ workers and QueueEvents block on Redis and must retry forever (maxRetriesPerRequest null).
 */
export function createRedisConnection(url: string, role: 'producer' | 'worker'): Redis {
  return new IORedis(url, {
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    enableOfflineQueue: role === 'worker',
    connectTimeout: 3_000,
    lazyConnect: false,
  });
}
