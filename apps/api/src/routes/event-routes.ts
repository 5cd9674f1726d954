import { Router } from 'express';
import { EventValidationError, validateInternalEvent, type DeviceEvent, type EventProducer } from '@novee/shared';
import { requireScopes } from '../auth/bearer-auth';
import { badRequest } from '../http/http-error';

/** Ingestion for pipelines that speak HTTP: validated, then enqueued; 202 as soon as Redis has it. */
export function eventRoutes(producer: EventProducer): Router {
  const router = Router();

  router.post('/events', requireScopes('events:write'), async (req, res) => {
    const result = validateInternalEvent(req.body);
    if (!result.valid) throw badRequest(result.errors.join('; '));
    if (result.value.webhookType === 'TEST') {
      throw badRequest('webhookType TEST is only sent by POST /webhooks/test/project/:projectId');
    }
    try {
      res.status(202).json(await producer.enqueue(result.value as DeviceEvent));
    } catch (error) {
      if (error instanceof EventValidationError) throw badRequest(error.errors.join('; '));
      throw error;
    }
  });

  return router;
}
