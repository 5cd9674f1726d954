import { findFreePort, killProcess, spawnUntilReady } from './child-process';

export interface LocalRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** kill -9, for fault tests: start again with the same port and dataDir to recover from the AOF. */
  kill(): Promise<void>;
}

export interface LocalRedisOptions {
  /** Keep data here, in an append-only file. */
  dataDir?: string;
  /** With dataDir: when the AOF is fsynced (Redis' default: everysec). */
  appendfsync?: 'always' | 'everysec';
  /** Default: a free port. */
  port?: number;
}

/**
 * Start a throwaway redis-server on a free loopback port, configured as production should be for BullMQ:
 * noeviction (queues must never be evicted). No persistence unless a directory is given.
 */
export async function startRedisServer(options: LocalRedisOptions = {}): Promise<LocalRedis> {
  const port = options.port ?? (await findFreePort());
  const persistence = options.dataDir
    ? ['--dir', options.dataDir, '--appendonly', 'yes', '--appendfsync', options.appendfsync ?? 'everysec']
    : ['--save', '', '--appendonly', 'no'];
  const redis = await spawnUntilReady(
    process.env.REDIS_SERVER_BIN ?? 'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--maxmemory-policy', 'noeviction', ...persistence],
    /Ready to accept connections/,
    { name: 'redis-server', timeoutMs: 20_000 },
  );
  return { url: `redis://127.0.0.1:${port}`, port, stop: redis.stop, kill: () => killProcess(redis.child) };
}
