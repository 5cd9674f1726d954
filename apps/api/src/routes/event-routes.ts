import { Router } from 'express';
import type { Counter } from 'prom-client';
import { EventValidationError, ajv, type DeviceEvent, type EventProducer } from '@novee/shared';
import { requireScopes } from '../auth/bearer-auth';
import { badRequest } from '../http/http-error';

const isIdempotencyKey = ajv.compile({ type: 'string', format: 'uuid' });

/**
 * Ingestion for pipelines that speak HTTP: the producer validates (the same schemas, the same messages as for
 * pipelines that enqueue directly, and TEST refused) and enqueues; 202 as soon as Redis has it.
 */
export function eventRoutes(producer: EventProducer, enqueued: Counter<'type' | 'lane'>): Router {
  const router = Router();

  router.post('/events', requireScopes('events:write'), async (req, res) => {
    // A pipeline that retries after a timeout or 503 sends the same key, and the event is enqueued once.
    const idempotencyKey = req.header('idempotency-key');
    if (idempotencyKey !== undefined && !isIdempotencyKey(idempotencyKey)) {
      throw badRequest('Idempotency-Key header must be a UUID');
    }
    try {
      const { eventId, lane } = await producer.enqueue(req.body as DeviceEvent, { eventId: idempotencyKey });
      enqueued.inc({ type: (req.body as DeviceEvent).webhookType, lane });
      res.locals.eventId = eventId;
      res.status(202).json({ eventId });
    } catch (error) {
      if (error instanceof EventValidationError) throw badRequest(error.errors.join('; '));
      throw error;
    }
  });

  return router;
}
