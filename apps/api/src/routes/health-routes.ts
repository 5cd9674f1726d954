import { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';

const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS).unref()),
  ]);
}

async function check(probe: () => Promise<unknown>): Promise<'ok' | 'unavailable'> {
  try {
    await withTimeout(probe());
    return 'ok';
  } catch {
    return 'unavailable';
  }
}

/** /healthz: the process is up. /readyz: Redis and MongoDB answer, else 503 (take it out of the load balancer). */
export function healthRoutes(deps: { redis: Redis; db: Db }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [redis, mongodb] = await Promise.all([check(() => deps.redis.ping()), check(() => deps.db.command({ ping: 1 }))]);
    const ready = redis === 'ok' && mongodb === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'unavailable', checks: { redis, mongodb } });
  });
  return router;
}
