import { Router } from 'express';
import type { Counter } from 'prom-client';
import {
  EnqueueOutcomeUnknownError,
  EventValidationError,
  IdempotencyKeyReusedError,
  QueueUnavailableError,
  ajv,
  checkDeviceEvent,
  describeValidationErrors,
  isEnqueued,
  type CheckedDeviceEvent,
  type EnqueueManyResult,
  type EventProducer,
} from '@novee/shared';
import { idempotencyKeyHeader } from '../http/idempotency-key-header';
import { callerSubject, hasScope, requireAnyScope } from '../auth/bearer-auth';
import { toHttpError } from '../http/error-handler';
import { HttpError, badRequest, errorBody } from '../http/http-error';
import { notAMember, projectNotFound } from '../projects/project-access';
import type { ProjectMembersCache } from '../projects/project-members-cache';
import type { RateLimiter } from '../rate-limits';
import { EVENTS_WRITE, EVENTS_WRITE_ANY } from './event-routes';

/** Events per POST /events/batch (more: 413). */
export const MAX_BATCH_EVENTS = 500;
/** The batch body limit (the other routes keep 256 kB): 500 events of up to 8 kB each. */
export const BATCH_BODY_LIMIT = '4mb';

const validateEnvelope = ajv.compile<{ events: unknown[] }>({
  type: 'object',
  required: ['events'],
  additionalProperties: false,
  properties: { events: { type: 'array' } },
});

/** One event's answer: its id (as POST /events's 202), or the error POST /events would have answered with. */
export type BatchResult = { eventId: string; replayed?: true } | { error: ReturnType<typeof errorBody> };

export interface EventBatchRoutesDeps {
  producer: EventProducer;
  projects: ProjectMembersCache;
  enqueued: Counter<'type' | 'lane'>;
  /** POST /events's per-project limit (the same counters), counted per event. */
  rateLimit: RateLimiter;
}

/** `data.x must ...` about event 3 -> `events[3].data.x must ...` (`body must ...` -> `events[3] must ...`). */
export function atEvent(index: number, message: string): string {
  return message.startsWith('body ') ? `events[${index}] ${message.slice('body '.length)}` : `events[${index}].${message}`;
}

/**
 * POST /events/batch: up to 500 events in one request, for pipelines. The request as a whole is checked like
 * POST /events (token 401, scope 403, Idempotency-Key 400) plus its envelope (400; more than 500 events 413);
 * then each event on its own, in POST /events's order and with its messages (400 naming `events[i]`, 404, 403,
 * 429 counted per event, 422), and the admitted ones are enqueued together (EventProducer.enqueueManyChecked).
 * 200 with one result per event, in order. Redis down (no event enqueued, each one known not to be): 503 for
 * the request, as POST /events.
 */
export function eventBatchRoutes({ producer, projects, enqueued, rateLimit }: EventBatchRoutesDeps): Router {
  const router = Router();

  router.post('/events/batch', requireAnyScope(`${EVENTS_WRITE} ${EVENTS_WRITE_ANY}`), async (req, res) => {
    // One key for the batch: event i is enqueued under `<key>:<i>`, so resending the same batch is exact.
    const idempotencyKey = idempotencyKeyHeader(req);
    if (!validateEnvelope(req.body)) throw badRequest(describeValidationErrors(validateEnvelope.errors).join('; '));
    const { events } = req.body;
    if (events.length === 0) throw badRequest('events must hold at least 1 event');
    if (events.length > MAX_BATCH_EVENTS) {
      throw new HttpError(413, `events holds ${events.length} events; at most ${MAX_BATCH_EVENTS} are taken per request`);
    }

    const results = new Array<BatchResult>(events.length);
    const refuse = (index: number, error: unknown) => {
      const { statusCode, message } = toHttpError(error);
      results[index] = { error: errorBody(statusCode, message) };
    };

    let pending: Array<{ index: number; event: CheckedDeviceEvent }> = [];
    events.forEach((event, index) => {
      try {
        pending.push({ index, event: checkDeviceEvent(event) });
      } catch (error) {
        if (!(error instanceof EventValidationError)) throw error;
        refuse(index, badRequest(error.errors.map((message) => atEvent(index, message)).join('; ')));
      }
    });

    // Project and membership, once per project (MongoDB down for a project not cached: 503 for the request).
    const caller = callerSubject(req);
    const any = hasScope(req, EVENTS_WRITE_ANY);
    const projectIds = [...new Set(pending.map(({ event }) => event.projectId))];
    const access = new Map(
      await Promise.all(
        projectIds.map(async (projectId) => {
          const members = await projects.members(projectId);
          const denied = !members ? projectNotFound(projectId) : !any && !members.includes(caller) ? notAMember(projectId) : undefined;
          return [projectId, denied] as const;
        }),
      ),
    );
    pending = pending.filter(({ index, event }) => {
      const denied = access.get(event.projectId);
      if (denied) refuse(index, denied);
      return !denied;
    });

    // The per-project rate limit, each event one request's worth: a project's first events within it pass.
    const byProject = new Map<string, typeof pending>();
    for (const item of pending) byProject.set(item.event.projectId, [...(byProject.get(item.event.projectId) ?? []), item]);
    const admissions = await Promise.all(
      [...byProject].map(async ([projectId, items]) => [items, await rateLimit.admit(projectId, items.length)] as const),
    );
    pending = admissions.flatMap(([items, { admitted, refusal }]) => {
      items.slice(admitted).forEach(({ index }) => refuse(index, refusal));
      return items.slice(0, admitted);
    });
    pending.sort((a, b) => a.index - b.index);

    const outcomes = await producer.enqueueManyChecked(
      pending.map(({ index, event }) => ({ event, idempotencyKey: idempotencyKey && `${idempotencyKey}:${index}` })),
    );
    const redisDown = wholeBatchFailure(outcomes);
    if (redisDown) throw redisDown;
    pending.forEach(({ index, event }, i) => {
      const outcome = outcomes[i]!;
      if (!isEnqueued(outcome))
        return refuse(
          index,
          outcome.error instanceof IdempotencyKeyReusedError ? new HttpError(422, outcome.error.message) : outcome.error,
        );
      if (!outcome.replayed) enqueued.inc({ type: event.webhookType, lane: outcome.lane });
      results[index] = outcome.replayed ? { eventId: outcome.eventId, replayed: true } : { eventId: outcome.eventId };
    });
    res.status(200).json({ results });
  });

  return router;
}

/**
 * When Redis failed every event that got as far as the queue, the request fails as POST /events would (503,
 * or 504 if any may have been enqueued), rather than a 200 that enqueued nothing.
 */
function wholeBatchFailure(outcomes: EnqueueManyResult[]): Error | undefined {
  const errors = outcomes.map((outcome) => (isEnqueued(outcome) ? undefined : outcome.error));
  const redis = (error: Error | undefined) => error instanceof QueueUnavailableError || error instanceof EnqueueOutcomeUnknownError;
  if (errors.length === 0 || !errors.every(redis)) return undefined;
  return errors.find((error) => error instanceof EnqueueOutcomeUnknownError) ?? errors[0];
}
