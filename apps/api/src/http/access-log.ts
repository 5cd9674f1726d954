import type { Request, RequestHandler, Response } from 'express';
import { PROJECT_ID_SCHEMA, ajv, type Logger } from '@novee/shared';
import { routePattern } from './route-pattern';

declare module 'express-serve-static-core' {
  interface Locals {
    /** Set by requestId(). */
    requestId?: string;
    /** The project a request was about, once a route has read it from the path (see noteProject). */
    projectId?: string;
    /** The event a request created (POST /events, test, redeliver), to follow it into the worker's lines. */
    eventId?: string;
  }
}

const isProjectId = ajv.compile(PROJECT_ID_SCHEMA);
/** Probes that succeed every few seconds would drown the log; they are logged at debug level. */
const PROBES = new Set(['/healthz', '/readyz']);

/** Remember which project the request is about, for its access-log line. */
export function noteProject(res: Response, projectId: string): void {
  res.locals.projectId = projectId;
}

/**
 * One JSON line per request once its response is sent: method, route pattern (and path), status, duration,
 * request id, and the project, caller and created event when known. Never headers or bodies (the token and
 * webhook secrets stay out of logs).
 */
export function accessLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100;
      const probe = PROBES.has(req.path) && res.statusCode < 400;
      logger.log(probe ? 'debug' : 'info', 'request', {
        method: req.method,
        route: routePattern(req) ?? null,
        path: req.path,
        status: res.statusCode,
        ms,
        requestId: res.locals.requestId,
        projectId: res.locals.projectId ?? projectIdInBody(req),
        caller: req.auth?.payload.sub,
        eventId: res.locals.eventId,
      });
    });
    next();
  };
}

/** register, PATCH and POST /events name the project in the body. */
function projectIdInBody(req: Request): string | undefined {
  const projectId = (req.body as { projectId?: unknown } | undefined)?.projectId;
  return typeof projectId === 'string' && isProjectId(projectId) ? projectId : undefined;
}
