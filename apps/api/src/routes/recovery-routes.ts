import { Router, type Request } from 'express';
import { SUBSCRIBABLE_TYPES, type SubscribableType } from '@novee/shared';
import { HttpError, badRequest } from '../http/http-error';
import { validateBody } from '../http/validate-body';
import { RECOVERY_WINDOW_MS, type RecoveryStore } from '../recoveries/recovery-store';
import type { RegistrationStore } from '../registrations/registration-store';

/** Body of POST /webhooks/project/:projectId/recover. */
export const recoverRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['since'],
  properties: {
    since: { type: 'string', format: 'date-time', description: 'Start of the window (at most 7 days ago)' },
    until: { type: 'string', format: 'date-time', description: 'End of the window (default: now)' },
    types: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: [...SUBSCRIBABLE_TYPES] } },
  },
} as const;

type RecoverBody = { since: string; until?: string; types?: SubscribableType[] };

export interface RecoveryRoutesDeps {
  recoveries: RecoveryStore;
  registrations: RegistrationStore;
  /** Resolves the :projectId of the path after checking membership (404 / 403). */
  memberProjectId: (req: Request) => Promise<string>;
}

/** Bulk recovery of the events an endpoint missed (e.g. down over a weekend), and its progress. */
export function recoveryRoutes({ recoveries, registrations, memberProjectId }: RecoveryRoutesDeps): Router {
  const router = Router();

  router.post('/webhooks/project/:projectId/recover', validateBody(recoverRequestSchema), async (req, res) => {
    const projectId = await memberProjectId(req);
    const body = req.body as RecoverBody;
    const now = Date.now();
    const since = new Date(body.since);
    const until = body.until ? new Date(body.until) : new Date(now);
    if (since.getTime() < now - RECOVERY_WINDOW_MS)
      throw badRequest('since must be within the last 7 days (failed events are kept 7 days)');
    if (until.getTime() <= since.getTime()) throw badRequest('until must be after since');
    const registration = await registrations.get(projectId); // 404 when there is no webhook to deliver to
    if (registration.status === 'disabled') {
      throw new HttpError(409, 'The webhook is disabled; re-enable it (PATCH /webhooks with enabled: true) before recovering');
    }
    res.status(202).json(await recoveries.start(projectId, { since, until, ...(body.types && { types: body.types }) }));
  });

  router.get('/webhooks/project/:projectId/recoveries/:recoveryId', async (req, res) => {
    const projectId = await memberProjectId(req);
    const { recoveryId } = req.params;
    if (typeof recoveryId !== 'string' || !/^[0-9a-f-]{36}$/.test(recoveryId)) throw badRequest('recoveryId must be a UUID');
    res.json(await recoveries.progress(projectId, recoveryId));
  });

  return router;
}
