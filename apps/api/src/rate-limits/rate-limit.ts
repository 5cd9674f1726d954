import type { Request, RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger } from '@novee/shared';
import { HttpError } from '../http/http-error';

/** How long the shared (Redis) counter may take before this instance counts on its own. */
const REDIS_ANSWER_WITHIN_MS = 250;

export interface RateLimitOptions {
  /** Shared by every API instance: the counters live in Redis. */
  redis: Redis;
  /** Redis key prefix for this limit's counters. */
  keyPrefix: string;
  /** Requests allowed per window, and the window. */
  points: number;
  windowSeconds: number;
  /** Who is being limited (a token subject, a project id); undefined = not limited here. */
  key(req: Request): string | undefined;
  /** How the 429 names what was limited, e.g. `project proj-1`. */
  describe(key: string): string;
  logger: Logger;
}

/**
 * A fixed-window limit (rate-limiter-flexible's Redis store, one atomic script per request). Every answer
 * carries RateLimit-Limit / -Remaining / -Reset and RateLimit-Policy; beyond the limit, 429 with Retry-After.
 * If Redis cannot answer, each instance falls back to counting in its own memory (the same limit per
 * instance) instead of refusing everyone or limiting nobody.
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  return rateLimiter(options).middleware;
}

/** A limit that is applied per request (its middleware) or to many units at once (admit, for a batch). */
export interface RateLimiter {
  middleware: RequestHandler;
  /**
   * Count `count` units (a batch's events) for `key` at once, one atomic call: how many of them, the first
   * ones, are within the limit, and the 429 that the others get.
   */
  admit(key: string, count: number): Promise<{ admitted: number; refusal: HttpError }>;
}

/** rateLimit's limiter, for a route that also counts many units per request (POST /events/batch). */
export function rateLimiter(options: RateLimitOptions): RateLimiter {
  const { points, windowSeconds } = options;
  const local = new RateLimiterMemory({ keyPrefix: `${options.keyPrefix}:local`, points, duration: windowSeconds });
  const shared = new RateLimiterRedis({
    storeClient: options.redis,
    keyPrefix: options.keyPrefix,
    points,
    duration: windowSeconds,
    rejectIfRedisNotReady: true,
    insuranceLimiter: local,
  });
  // A Redis that is connected but stalled never answers: count locally rather than hold the request (or a
  // fall alert behind it) for as long as Redis is stuck.
  const consume = (key: string, units = 1): Promise<RateLimiterRes> => {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<'stalled'>((resolve) => (timer = setTimeout(() => resolve('stalled'), REDIS_ANSWER_WITHIN_MS)));
    return Promise.race([shared.consume(key, units), stalled])
      .then((outcome) => (outcome === 'stalled' ? local.consume(key, units) : outcome))
      .finally(() => clearTimeout(timer));
  };
  const policy = `${points};w=${windowSeconds}`;
  const setHeaders = (res: Parameters<RequestHandler>[1], state: RateLimiterRes) => {
    res.set({
      'RateLimit-Policy': policy,
      'RateLimit-Limit': String(points),
      'RateLimit-Remaining': String(Math.max(0, state.remainingPoints)),
      'RateLimit-Reset': String(Math.max(1, Math.ceil(state.msBeforeNext / 1000))),
    });
  };

  const window = windowSeconds === 1 ? 'second' : `${windowSeconds} seconds`;
  const refusal = (key: string, state: RateLimiterRes) => {
    const retryAfter = Math.max(1, Math.ceil(state.msBeforeNext / 1000));
    return new HttpError(
      429,
      `Rate limit exceeded for ${options.describe(key)}: at most ${points} requests per ${window}; retry after ${retryAfter} s`,
      { 'Retry-After': String(retryAfter) },
    );
  };

  const admit: RateLimiter['admit'] = async (key, count) => {
    const state = await consume(key, count).catch((rejection: unknown) => {
      if (rejection instanceof RateLimiterRes) return rejection;
      options.logger.warn('rate limiter unavailable', { keyPrefix: options.keyPrefix, error: (rejection as Error)?.message });
      return undefined;
    });
    if (!state) return { admitted: count, refusal: new HttpError(429) }; // as below: let them through
    // consumedPoints counts this call's units too: the ones numbered up to `points` in the window are taken.
    const admitted = Math.min(count, Math.max(0, points - (state.consumedPoints - count)));
    return { admitted, refusal: refusal(key, state) };
  };

  const middleware: RequestHandler = (req, res, next) => {
    const key = options.key(req);
    if (key === undefined) return next();
    consume(key).then(
      (state) => {
        setHeaders(res, state);
        next();
      },
      (rejection: unknown) => {
        if (!(rejection instanceof RateLimiterRes)) {
          // Both stores failed (should not happen: the memory store cannot); let the request through.
          options.logger.warn('rate limiter unavailable', { keyPrefix: options.keyPrefix, error: (rejection as Error)?.message });
          return next();
        }
        setHeaders(res, rejection);
        next(refusal(key, rejection));
      },
    );
  };
  return { middleware, admit };
}
