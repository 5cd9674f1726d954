import { execFileSync } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdirSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { findFreePort, killProcess, spawnUntilReady } from './child-process';
import { embeddedRedisDir, ensureLocalServicesBuilt } from './local-services-setup';

export interface LocalRedis {
  url: string;
  port: number;
  /** Which redis-server runs, e.g. `Redis 7.0.15 (redis-server on PATH: /usr/bin/redis-server)`. */
  description: string;
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

export interface RedisServerBinary {
  path: string;
  /** Why this one: REDIS_SERVER_BIN, redis-server on PATH, or the embedded-redis binary from Maven Central. */
  source: string;
}

/**
 * The redis-server to run: REDIS_SERVER_BIN if set, else `redis-server` on PATH, else the Redis 6.2 binary
 * for this platform from the embedded-redis jar (fetched by the set-up step, run first if needed), so a
 * machine without Redis installed still runs the tests and the local stack.
 */
export function findRedisServerBinary(): RedisServerBinary {
  if (process.env.REDIS_SERVER_BIN) return { path: process.env.REDIS_SERVER_BIN, source: 'REDIS_SERVER_BIN' };
  const onPath = findOnPath('redis-server');
  if (onPath) return { path: onPath, source: 'redis-server on PATH' };
  ensureLocalServicesBuilt();
  const suffix = embeddedRedisSuffix();
  const file = readdirSync(embeddedRedisDir).find((name) => name.startsWith('redis-server-') && name.endsWith(suffix));
  if (!file) {
    throw new Error(
      `no redis-server on PATH and embedded-redis has no binary for ${process.platform}-${process.arch}: install Redis or set REDIS_URL`,
    );
  }
  const path = join(embeddedRedisDir, file);
  chmodSync(path, 0o755); // zip entries carry no execute bit
  return { path, source: 'embedded-redis from Maven Central' };
}

/**
 * Start a throwaway redis-server on a free loopback port, configured as production should be for BullMQ:
 * noeviction (queues must never be evicted). No persistence unless a directory is given.
 */
export async function startRedisServer(options: LocalRedisOptions = {}): Promise<LocalRedis> {
  const binary = findRedisServerBinary();
  const port = options.port ?? (await findFreePort());
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const persistence = options.dataDir
    ? ['--dir', options.dataDir, '--appendonly', 'yes', '--appendfsync', options.appendfsync ?? 'everysec']
    : ['--save', '', '--appendonly', 'no'];
  const redis = await spawnUntilReady(
    binary.path,
    ['--bind', '127.0.0.1', '--port', String(port), '--maxmemory-policy', 'noeviction', ...persistence],
    /Ready to accept connections/,
    { name: 'redis-server', timeoutMs: 20_000 },
  );
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    description: `${describe(binary)}, ${options.dataDir ? `append-only file, fsync ${options.appendfsync ?? 'everysec'}` : 'no persistence'}`,
    stop: redis.stop,
    kill: () => killProcess(redis.child),
  };
}

function describe(binary: RedisServerBinary): string {
  const version = execFileSync(binary.path, ['--version'], { encoding: 'utf8' }).match(/v=(\S+)/)?.[1] ?? 'unknown version';
  return `Redis ${version} (${binary.source}: ${binary.path})`;
}

function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** embedded-redis names its binaries redis-server-<version>-<os>-<arch>. */
function embeddedRedisSuffix(): string {
  const arch = ({ x64: 'amd64', arm64: 'arm64', ia32: '386' } as Record<string, string>)[process.arch] ?? process.arch;
  return `-${process.platform}-${arch}`;
}
