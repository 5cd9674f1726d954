import type { Request, RequestHandler } from 'express';
import { InsufficientScopeError, UnauthorizedError, auth, requiredScopes } from 'express-oauth2-jwt-bearer';
import { HttpError, serviceUnavailable } from '../http/http-error';

export interface BearerAuthOptions {
  /** The Auth0 tenant, e.g. https://novee.eu.auth0.com/ (discovery and JWKS are fetched from it). */
  issuerBaseURL: string;
  audience: string;
}

/**
 * express-oauth2-jwt-bearer reports every failure as InvalidTokenError, including "could not reach the issuer"
 * (discovery or JWKS fetch). Those messages are told apart here so an Auth0 outage is a 503, not a 401.
 */
const ISSUER_UNREACHABLE = [
  /Failed to fetch authorization server metadata/,
  /Expected 200 OK from the JSON Web Key Set/,
  /request timed out/,
  /ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|fetch failed/,
];

/**
 * Validates `Authorization: Bearer <access token>` (RS256, issuer, audience, expiry) against the issuer's JWKS.
 * If the issuer cannot be reached to fetch its keys, that is an outage (503), not the caller's fault (401).
 */
export function bearerAuth(options: BearerAuthOptions): RequestHandler {
  const validate = auth({ issuerBaseURL: options.issuerBaseURL, audience: options.audience, tokenSigningAlg: 'RS256' });
  return (req, res, next) =>
    validate(req, res, (error?: unknown) => {
      const message = (error as Error | undefined)?.message ?? '';
      const unreachable = !(error instanceof UnauthorizedError) || ISSUER_UNREACHABLE.some((p) => p.test(message));
      next(error && unreachable ? serviceUnavailable('Authorization server') : error);
    });
}

/**
 * 403 unless the token carries every scope named; the message names them (the library's says only
 * "Insufficient Scope" or "Missing 'scope' claim"), and its WWW-Authenticate header (RFC 6750) is kept.
 */
export function requireScopes(scopes: string): RequestHandler {
  const check = requiredScopes(scopes);
  return (req, res, next) =>
    check(req, res, (error?: unknown) => {
      if (!(error instanceof InsufficientScopeError)) return next(error);
      const headers = error.headers as Record<string, string>;
      next(new HttpError(403, `This call needs a token with the scope ${scopes.split(' ').join(' and ')}`, headers));
    });
}

/** The caller's identity (`sub`), set by bearerAuth. */
export function callerSubject(req: Request): string {
  const sub = req.auth?.payload.sub;
  if (!sub) throw new UnauthorizedError('Token has no subject');
  return sub;
}
