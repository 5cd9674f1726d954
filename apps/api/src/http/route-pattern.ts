import type { Request } from 'express';

/** The matched route's pattern (e.g. /webhooks/project/:projectId), never the raw path; undefined if none matched. */
export function routePattern(req: Request): string | undefined {
  const route = req.route as { path?: unknown } | undefined;
  return typeof route?.path === 'string' ? `${req.baseUrl}${route.path}` : undefined;
}
