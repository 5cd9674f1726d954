import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Router, type RequestHandler } from 'express';
import type { Queue } from 'bullmq';
import { requireScopes } from '../auth/bearer-auth';

export const ADMIN_SCOPE = 'admin:queues';
const BASE_PATH = '/admin/queues';

/** Bull Board for operators: needs a token with the admin scope, and only looks unless readOnly is false. */
export function adminRoutes(queue: Queue, options: { readOnly: boolean }): Router {
  const board = new ExpressAdapter();
  board.setBasePath(BASE_PATH);
  createBullBoard({ queues: [new BullMQAdapter(queue, { readOnlyMode: options.readOnly })], serverAdapter: board });
  const router = Router();
  // @bull-board/express types its router as any.
  router.use(BASE_PATH, requireScopes(ADMIN_SCOPE), board.getRouter() as RequestHandler);
  return router;
}
