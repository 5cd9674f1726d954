import IORedis, { type Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logging/logger';

/**
 * producer: fail fast when Redis is down (the API answers 503 instead of hanging).
 * worker: BullMQ workers and QueueEvents block on Redis and must retry forever (maxRetriesPerRequest null).
 * With a logger, connection errors (Redis down, reconnecting) are logged as warnings instead of by ioredis.
 * `options`: extra ioredis options, e.g. enableAutoPipelining for a connection of many small concurrent calls.
 */
export function createRedisConnection(url: string, role: 'producer' | 'worker', logger?: Logger, options: RedisOptions = {}): Redis {
  const redis = new IORedis(url, {
    ...options,
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    enableOfflineQueue: role === 'worker',
    connectTimeout: 3_000,
    lazyConnect: false,
  });
  if (logger) redis.on('error', (error: Error) => logger.warn('redis connection error', { error: error.message }));
  return redis;
}
