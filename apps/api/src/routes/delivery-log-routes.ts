import { Router, type Request } from 'express';
import { WEBHOOK_TYPES, createAjv, describeValidationErrors, type EventProducer } from '@novee/shared';
import type { DeliveryLogReader, DeliveryQuery } from '../deliveries/delivery-log-reader';
import { HttpError, badRequest, notFound } from '../http/http-error';
import type { RegistrationStore } from '../registrations/registration-store';

const queryAjv = createAjv({ coerceTypes: true, useDefaults: true });
const validateQuery = queryAjv.compile<DeliveryQuery>({
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: ['delivered', 'failed', 'rejected'] },
    type: { type: 'string', enum: [...WEBHOOK_TYPES] },
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    cursor: { type: 'string', pattern: '^[0-9a-f]{24}$' },
  },
});
const isEventId = queryAjv.compile({ type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' });

export interface DeliveryLogRoutesDeps {
  deliveries: DeliveryLogReader;
  registrations: RegistrationStore;
  producer: EventProducer;
  /** Resolves the :projectId of the path after checking membership (404 / 403). */
  memberProjectId: (req: Request) => Promise<string>;
}

/** The delivery log: what was sent to a project's webhook, and redelivery on request. */
export function deliveryLogRoutes({ deliveries, registrations, producer, memberProjectId }: DeliveryLogRoutesDeps): Router {
  const router = Router();

  router.get('/webhooks/project/:projectId/deliveries', async (req, res) => {
    const projectId = await memberProjectId(req);
    const query: Record<string, unknown> = { ...req.query };
    if (!validateQuery(query)) throw badRequest(describeValidationErrors(validateQuery.errors, 'query').join('; '));
    res.json(await deliveries.page(projectId, query));
  });

  router.post('/webhooks/project/:projectId/deliveries/:eventId/redeliver', async (req, res) => {
    const projectId = await memberProjectId(req);
    const { eventId } = req.params;
    if (!isEventId(eventId)) throw badRequest('eventId must be 1-128 letters, digits, _ or -');
    await registrations.get(projectId); // 404 when there is no webhook to deliver to
    if (!(await deliveries.hasEvent(projectId, eventId))) {
      throw notFound(`No delivery of event ${eventId} for project ${projectId}`);
    }
    const redelivery = await producer.redeliver(eventId);
    if (!redelivery) throw new HttpError(410, `Event ${eventId} is no longer retained for redelivery`);
    res.locals.eventId = eventId;
    res.status(202).json(redelivery);
  });

  return router;
}
