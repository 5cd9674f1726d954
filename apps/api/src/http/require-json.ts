import type { RequestHandler } from 'express';
import { HttpError } from './http-error';

/**
 * A request that carries a body must say it is JSON (the only body the API reads). Anything else, a form body
 * (where a token could hide) included, is refused with 415 rather than read as "no body".
 */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (!hasBody || req.is('application/json')) return next();
  next(new HttpError(415, 'Content-Type must be application/json'));
};
