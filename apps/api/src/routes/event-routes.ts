import { Router, type RequestHandler } from 'express';
import type { Counter } from 'prom-client';
import {
  EventValidationError,
  IdempotencyKeyReusedError,
  checkDeviceEvent,
  type CheckedDeviceEvent,
  type EventProducer,
} from '@novee/shared';
import { idempotencyKeyHeader } from '../http/idempotency-key-header';
import { callerSubject, hasScope, requireAnyScope } from '../auth/bearer-auth';
import { HttpError, badRequest } from '../http/http-error';
import { notAMember, projectNotFound } from '../projects/project-access';
import type { ProjectMembersCache } from '../projects/project-members-cache';

/** Scopes for POST /events: `events:write` posts for the caller's own projects, `events:write:any` for any project. */
export const EVENTS_WRITE = 'events:write';
export const EVENTS_WRITE_ANY = 'events:write:any';

export interface EventRoutesDeps {
  producer: EventProducer;
  projects: ProjectMembersCache;
  enqueued: Counter<'type' | 'lane'>;
  /** The per-project ingestion limit: applied once the caller is known to act for that project. */
  rateLimit: RequestHandler;
}

/**
 * Ingestion for pipelines that speak HTTP. Checked in this order: token (401), scope (403), Idempotency-Key
 * (400), event (400, the producer's schemas and messages, TEST refused), project (404), membership (403),
 * rate limit per project (429), key reuse (422); then 202 once Redis has the job (503: known not enqueued; 504: not confirmed in time).
 */
export function eventRoutes({ producer, projects, enqueued, rateLimit }: EventRoutesDeps): Router {
  const router = Router();

  router.post('/events', requireAnyScope(`${EVENTS_WRITE} ${EVENTS_WRITE_ANY}`), async (req, res) => {
    // A pipeline that retries after a timeout, 503 or 504 sends the same key, and the event is enqueued once.
    const idempotencyKey = idempotencyKeyHeader(req);
    let event: CheckedDeviceEvent;
    try {
      event = checkDeviceEvent(req.body);
    } catch (error) {
      if (error instanceof EventValidationError) throw badRequest(error.errors.join('; '));
      throw error;
    }
    const members = await projects.members(event.projectId);
    if (!members) throw projectNotFound(event.projectId);
    if (!hasScope(req, EVENTS_WRITE_ANY) && !members.includes(callerSubject(req))) throw notAMember(event.projectId);
    // Only now: a token that may not post for a project must not be able to use up that project's allowance.
    // The limiter calls next() with nothing or with an HttpError (429).
    await new Promise<void>((resolve, reject) =>
      rateLimit(req, res, (error?: unknown) => {
        if (!error) resolve();
        else reject(error instanceof Error ? error : new Error('rate limiter: unexpected next() argument'));
      }),
    );

    try {
      const { eventId, lane, replayed } = await producer.enqueueChecked(event, { idempotencyKey });
      if (replayed) res.set('Idempotent-Replayed', 'true');
      else enqueued.inc({ type: event.webhookType, lane });
      res.locals.eventId = eventId; // for the access log
      res.status(202).json({ eventId });
    } catch (error) {
      if (error instanceof IdempotencyKeyReusedError) throw new HttpError(422, error.message);
      throw error;
    }
  });

  return router;
}
