import type { Request, RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { PROJECT_ID_SCHEMA, ajv, type Logger } from '@novee/shared';
import { rateLimit, rateLimiter, type RateLimiter } from './rate-limit';

const isProjectId = ajv.compile(PROJECT_ID_SCHEMA);

export interface ApiRateLimitSettings {
  redis: Redis;
  queuePrefix: string;
  managementPerMinute: number;
  eventsPerSecond: number;
  logger: Logger;
}

/** Ingestion is limited per project (below), not per caller. */
const INGESTION_PATHS = new Set(['/events', '/events/batch']);

/**
 * Management calls (register, read, test, deliveries, ...): per caller, i.e. per token subject, so one
 * token (or a client minting many tokens for the same identity) cannot monopolise the API or MongoDB.
 * Mounted after authentication; ingestion has its own limit per project below.
 */
export function managementRateLimit(settings: ApiRateLimitSettings): RequestHandler {
  return rateLimit({
    redis: settings.redis,
    keyPrefix: `${settings.queuePrefix}:rate:management`,
    points: settings.managementPerMinute,
    windowSeconds: 60,
    key: (req: Request) => (INGESTION_PATHS.has(req.path) ? undefined : req.auth?.payload.sub),
    describe: () => 'this token',
    logger: settings.logger,
  });
}

/**
 * POST /events: per project (the body's projectId), across every API instance, so one project's flood is
 * refused at the door instead of filling the queue. A body without a valid projectId is not counted: it is
 * refused by validation anyway.
 */
export function ingestionRateLimit(settings: ApiRateLimitSettings): RequestHandler {
  return ingestionRateLimiter(settings).middleware;
}

/**
 * The same limit (the same counters), also for POST /events/batch, which counts each event against its
 * project (RateLimiter.admit): a batch is no way around the per-project limit.
 */
export function ingestionRateLimiter(settings: ApiRateLimitSettings): RateLimiter {
  return rateLimiter({
    redis: settings.redis,
    keyPrefix: `${settings.queuePrefix}:rate:events`,
    points: settings.eventsPerSecond,
    windowSeconds: 1,
    key: (req: Request) => {
      const projectId = (req.body as { projectId?: unknown } | undefined)?.projectId;
      return typeof projectId === 'string' && isProjectId(projectId) ? projectId : undefined;
    },
    describe: (projectId) => `project ${projectId}`,
    logger: settings.logger,
  });
}
