import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

/** A caller's id is kept only if it is short and plain (it ends up in log lines and a response header). */
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * `X-Request-Id`: the caller's (a proxy's, a client's) when it is acceptable, else a new UUID; set on
 * res.locals.requestId for the access log and returned in the response, so both sides can quote it.
 */
export function requestId(): RequestHandler {
  return (req, res, next) => {
    const given = req.header('x-request-id');
    const id = given !== undefined && ACCEPTABLE_REQUEST_ID.test(given) ? given : randomUUID();
    res.locals.requestId = id;
    res.set('X-Request-Id', id);
    next();
  };
}
