import { Router } from 'express';
import { EventValidationError, ajv, validateInternalEvent, type DeviceEvent, type EventProducer } from '@novee/shared';
import { requireScopes } from '../auth/bearer-auth';
import { badRequest } from '../http/http-error';

const isIdempotencyKey = ajv.compile({ type: 'string', format: 'uuid' });

/** Ingestion for pipelines that speak HTTP: validated, then enqueued; 202 as soon as Redis has it. */
export function eventRoutes(producer: EventProducer): Router {
  const router = Router();

  router.post('/events', requireScopes('events:write'), async (req, res) => {
    const result = validateInternalEvent(req.body);
    if (!result.valid) throw badRequest(result.errors.join('; '));
    if (result.value.webhookType === 'TEST') {
      throw badRequest('webhookType TEST is only sent by POST /webhooks/test/project/:projectId');
    }
    // A pipeline that retries after a timeout or 503 sends the same key, and the event is enqueued once.
    const idempotencyKey = req.header('idempotency-key');
    if (idempotencyKey !== undefined && !isIdempotencyKey(idempotencyKey)) {
      throw badRequest('Idempotency-Key header must be a UUID');
    }
    try {
      res.status(202).json(await producer.enqueue(result.value as DeviceEvent, { eventId: idempotencyKey }));
    } catch (error) {
      if (error instanceof EventValidationError) throw badRequest(error.errors.join('; '));
      throw error;
    }
  });

  return router;
}
