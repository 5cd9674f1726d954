import type { RequestHandler } from 'express';
import { HttpError } from './http-error';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];

/**
 * 405 with `Allow` for a known path called with a method it does not have (instead of a 404 that suggests the
 * path is wrong). The paths and methods are read from the OpenAPI document, which a test keeps complete.
 */
export function methodNotAllowed(paths: Record<string, object>): RequestHandler {
  const routes = Object.entries(paths).map(([path, operations]) => {
    const methods = Object.keys(operations)
      .filter((key) => METHODS.includes(key))
      .map((m) => m.toUpperCase());
    if (methods.includes('GET')) methods.push('HEAD');
    const pattern = new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^/}]+\}/g, '[^/]+')}/?$`);
    return { pattern, methods };
  });
  return (req, _res, next) => {
    const route = routes.find(({ pattern }) => pattern.test(req.path));
    if (!route || route.methods.includes(req.method)) return next();
    next(
      new HttpError(405, `${req.method} is not allowed on ${req.path}; allowed: ${route.methods.join(', ')}`, {
        Allow: route.methods.join(', '),
      }),
    );
  };
}
