import { findFreePort, spawnUntilReady } from './child-process';

export interface LocalRedis {
  url: string;
  stop(): Promise<void>;
}

/**
 * Start a throwaway redis-server on a free loopback port, configured as production should be for BullMQ:
 * noeviction (queues must never be evicted). No persistence unless a directory is given.
 */
export async function startRedisServer(options: { dataDir?: string } = {}): Promise<LocalRedis> {
  const port = await findFreePort();
  const persistence = options.dataDir
    ? ['--dir', options.dataDir, '--appendonly', 'yes']
    : ['--save', '', '--appendonly', 'no'];
  const redis = await spawnUntilReady(
    process.env.REDIS_SERVER_BIN ?? 'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--maxmemory-policy', 'noeviction', ...persistence],
    /Ready to accept connections/,
    { name: 'redis-server', timeoutMs: 20_000 },
  );
  return { url: `redis://127.0.0.1:${port}`, stop: redis.stop };
}
