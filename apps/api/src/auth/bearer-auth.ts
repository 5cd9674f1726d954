import type { Request, RequestHandler } from 'express';
import { UnauthorizedError, auth, requiredScopes } from 'express-oauth2-jwt-bearer';
import { serviceUnavailable } from '../http/http-error';

export interface BearerAuthOptions {
  /** The Auth0 tenant, e.g. https://novee.eu.auth0.com/ (discovery and JWKS are fetched from it). */
  issuerBaseURL: string;
  audience: string;
}

/**
 * Validates `Authorization: Bearer <access token>` (RS256, issuer, audience, expiry) against the issuer's JWKS.
 * If the issuer cannot be reached to fetch its keys, that is an outage (503), not the caller's fault (401).
 */
export function bearerAuth(options: BearerAuthOptions): RequestHandler {
  const validate = auth({ issuerBaseURL: options.issuerBaseURL, audience: options.audience, tokenSigningAlg: 'RS256' });
  return (req, res, next) =>
    validate(req, res, (error?: unknown) => {
      if (error && !(error instanceof UnauthorizedError)) return next(serviceUnavailable('Authorization server'));
      next(error);
    });
}

/** 403 unless the token carries every scope named. */
export const requireScopes = (scopes: string): RequestHandler => requiredScopes(scopes);

/** The caller's identity (`sub`), set by bearerAuth. */
export function callerSubject(req: Request): string {
  const sub = req.auth?.payload.sub;
  if (!sub) throw new UnauthorizedError('Token has no subject');
  return sub;
}
