import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Router, type Express, type Request, type RequestHandler } from 'express';
import type { Queue } from 'bullmq';
import type { DeliveryJobData } from '@novee/shared';
import { ADMIN_SESSION_COOKIE, type AdminSessions } from '../admin/admin-sessions';
import { LOGIN_HTML, LOGIN_SCRIPT } from '../admin/login-page';
import { requireScopes } from '../auth/bearer-auth';
import { noStore, uiContentSecurityPolicy } from '../http/security-headers';

export const ADMIN_SCOPE = 'admin:queues';
const BASE_PATH = '/admin/queues';
const COOKIE_PATH = '/admin';

export interface AdminRoutesOptions {
  queue: Queue;
  /** The board can only look unless this is false. */
  readOnly: boolean;
  /** Show each job's full data (patients' names and e-mail addresses) instead of ids, type and project. */
  showJobData: boolean;
  /** The API's bearer-token check (the same one every other route uses). */
  authenticate: RequestHandler;
  sessions: AdminSessions;
}

/** What the board shows of a job's data by default: enough to find and follow an event, no patient data. */
export function redactJobData(data: Partial<DeliveryJobData> | undefined) {
  if (!data) return data;
  const { eventId, projectId, webhookType, enqueuedAt, redelivery } = data;
  return { eventId, projectId, webhookType, enqueuedAt, ...(redelivery && { redelivery }), data: '[redacted]' };
}

/** The session cookie's value (its ids are base64url, so no decoding is needed). */
const sessionId = (req: Request): string | undefined =>
  (req.headers.cookie ?? '')
    .split(';')
    .map((pair) => pair.trim().split('='))
    .find(([name]) => name === ADMIN_SESSION_COOKIE)?.[1];

/**
 * Bull Board for operators with the admin:queues scope. API clients send their bearer token on every call;
 * a browser signs in once at /admin/login (the token is exchanged for a short-lived HttpOnly, SameSite=Strict
 * session cookie scoped to /admin), which the board's own calls then carry. Read-only unless readOnly is false.
 */
export function adminRoutes(options: AdminRoutesOptions): Router {
  const { sessions, authenticate } = options;
  const adapter = new BullMQAdapter(options.queue, { readOnlyMode: options.readOnly });
  if (!options.showJobData) adapter.setFormatter('data', redactJobData);
  const board = new ExpressAdapter();
  board.setBasePath(BASE_PATH);
  createBullBoard({ queues: [adapter], serverAdapter: board });
  const boardApp = board.getRouter() as Express;
  boardApp.disable('x-powered-by'); // the board is an Express app of its own, with Express's default on

  const requireAdminScope = requireScopes(ADMIN_SCOPE);

  /**
   * A valid session cookie, else a bearer token with the admin scope. A browser with neither is sent to the
   * sign-in page; any other client gets the usual 401.
   */
  const adminAccess: RequestHandler = async (req, res, next) => {
    const id = sessionId(req);
    if (id && !req.headers.authorization) {
      if (await sessions.subject(id)) return next();
      res.clearCookie(ADMIN_SESSION_COOKIE, { path: COOKIE_PATH });
    }
    if (!req.headers.authorization && req.method === 'GET' && req.accepts(['json', 'html']) === 'html') {
      return res.redirect(303, '/admin/login');
    }
    authenticate(req, res, (error?: unknown) => (error ? next(error) : requireAdminScope(req, res, next)));
  };

  const router = Router();
  router.use(COOKIE_PATH, uiContentSecurityPolicy(), noStore);
  router.get('/admin/login', (_req, res) => {
    res.type('html').send(LOGIN_HTML);
  });
  router.get('/admin/login.js', (_req, res) => {
    res.type('application/javascript').send(LOGIN_SCRIPT);
  });
  router.post('/admin/session', authenticate, requireAdminScope, async (req, res) => {
    const subject = req.auth!.payload.sub ?? 'unknown';
    const session = await sessions.create(subject, req.auth!.payload.exp);
    res.cookie(ADMIN_SESSION_COOKIE, session.id, {
      path: COOKIE_PATH,
      httpOnly: true,
      sameSite: 'strict',
      secure: true,
      maxAge: session.ttlMs,
    });
    res.status(204).end();
  });
  router.delete('/admin/session', async (req, res) => {
    const id = sessionId(req);
    if (id) await sessions.end(id);
    res.clearCookie(ADMIN_SESSION_COOKIE, { path: COOKIE_PATH, httpOnly: true, sameSite: 'strict', secure: true });
    res.status(204).end();
  });
  router.use(BASE_PATH, adminAccess, boardApp);
  return router;
}
