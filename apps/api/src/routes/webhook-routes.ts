import { Router, type Request } from 'express';
import {
  PROJECT_ID_SCHEMA,
  ajv,
  checkWebhookTarget,
  registerWebhookSchema,
  updateWebhookSchema,
  type WebhookUrlPolicy,
} from '@novee/shared';
import { callerSubject } from '../auth/bearer-auth';
import type { TestEventSender } from '../events/test-event-sender';
import { noteProject } from '../http/access-log';
import { badRequest } from '../http/http-error';
import { validateBody } from '../http/validate-body';
import type { ProjectAccess } from '../projects/project-access';
import type { RegistrationStore } from '../registrations/registration-store';

const isProjectId = ajv.compile(PROJECT_ID_SCHEMA);

/** Reads :projectId from the path, checks it, and confirms the caller is a member (404 / 403). */
export function pathProjectOfMember(projects: ProjectAccess) {
  return async (req: Request): Promise<string> => {
    const projectId = req.params.projectId;
    if (typeof projectId !== 'string' || !isProjectId(projectId)) {
      throw badRequest('projectId must be 1-128 letters, digits or ._:-');
    }
    noteProject(req.res!, projectId);
    await projects.assertMember(projectId, callerSubject(req));
    return projectId;
  };
}

/** Bodies as validateBody has checked them against registerWebhookSchema and updateWebhookSchema. */
type RegisterBody = Parameters<RegistrationStore['register']>[0];
type UpdateBody = { projectId: string } & Parameters<RegistrationStore['update']>[1];

export interface WebhookRoutesDeps {
  projects: ProjectAccess;
  registrations: RegistrationStore;
  testEvents: TestEventSender;
  urlPolicy: WebhookUrlPolicy;
}

/** The documented management API (SPEC.md): register, update, read, delete, test. */
export function webhookRoutes({ projects, registrations, testEvents, urlPolicy }: WebhookRoutesDeps): Router {
  const router = Router();

  /** https only, and never a private, loopback, link-local or metadata address (SSRF guard, registration side). */
  const checkUrl = async (url: string | undefined) => {
    const problem = url === undefined ? null : await checkWebhookTarget(url, urlPolicy);
    if (problem) throw badRequest(problem);
  };

  const memberProjectId = pathProjectOfMember(projects);

  router.post('/webhooks/register', validateBody(registerWebhookSchema), async (req, res) => {
    const { projectId, url, types } = req.body as RegisterBody;
    // Access first: only a member may learn what the URL's host resolves to (no DNS oracle for outsiders).
    await projects.assertMember(projectId, callerSubject(req));
    await checkUrl(url);
    res.status(201).json(await registrations.register({ projectId, url, types }));
  });

  router.patch('/webhooks', validateBody(updateWebhookSchema), async (req, res) => {
    const { projectId, url, types, enabled } = req.body as UpdateBody;
    await projects.assertMember(projectId, callerSubject(req));
    await checkUrl(url);
    res.json(
      await registrations.update(projectId, { ...(url && { url }), ...(types && { types }), ...(enabled !== undefined && { enabled }) }),
    );
  });

  router.get('/webhooks/project/:projectId', async (req, res) => {
    res.json(await registrations.get(await memberProjectId(req)));
  });

  router.delete('/webhooks/project/:projectId', async (req, res) => {
    await registrations.remove(await memberProjectId(req));
    res.status(204).end();
  });

  router.post('/webhooks/project/:projectId/secret/rotate', async (req, res) => {
    res.json(await registrations.rotateSecret(await memberProjectId(req)));
  });

  // Ends a rotation's grace window early (e.g. every receiver has the new secret, or the old one leaked).
  router.delete('/webhooks/project/:projectId/secret/previous', async (req, res) => {
    await registrations.endPreviousSecret(await memberProjectId(req));
    res.status(204).end();
  });

  router.post('/webhooks/test/project/:projectId', async (req, res) => {
    const projectId = await memberProjectId(req);
    await registrations.get(projectId); // 404 when there is nothing to test
    const outcome = await testEvents.send(projectId);
    res.locals.eventId = outcome.eventId;
    if (!outcome.finished) return res.status(202).json({ eventId: outcome.eventId });
    const { finished: _finished, ...report } = outcome;
    res.status(200).json(report);
  });

  return router;
}
