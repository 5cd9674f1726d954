import type { Request, RequestHandler } from 'express';
import {
  InsufficientScopeError,
  InvalidRequestError,
  UnauthorizedError,
  auth,
  requiredScopes,
  scopeIncludesAny,
} from 'express-oauth2-jwt-bearer';
import { HttpError, serviceUnavailable } from '../http/http-error';
import { VerifiedTokenCache } from './verified-token-cache';

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

const unauthorized = (message: string, error = 'invalid_request') =>
  new HttpError(401, message, { 'WWW-Authenticate': `Bearer realm="api", error="${error}", error_description="${message}"` });

const BEARER_ONLY = 'Access tokens are accepted only in the Authorization header, as "Bearer <token>"';

/**
 * Tokens come from the Authorization header and nowhere else: a token in the URL ends up in proxy and access
 * logs, so `?access_token=` is refused (401) before the token is even looked at. (A token in a body is never
 * read: bodies are parsed only after authentication, and only as JSON, whose schemas refuse unknown fields.)
 */
function tokenInQuery(query: unknown): boolean {
  return typeof query === 'object' && query !== null && Object.keys(query).some((key) => key.toLowerCase() === 'access_token');
}

/**
 * Validates `Authorization: Bearer <access token>` (RS256, issuer, audience, expiry) against the issuer's JWKS.
 * Every problem with the credentials is a 401 (SPEC: missing/invalid token), including a malformed header
 * (`Bearer ` with nothing after it, `Basic ...`, no scheme), which the library would answer with 400.
 * If the issuer cannot be reached to fetch its keys, that is an outage (503), not the caller's fault (401).
 */
export function bearerAuth(options: BearerAuthOptions): RequestHandler {
  const validate = auth({ issuerBaseURL: options.issuerBaseURL, audience: options.audience, tokenSigningAlg: 'RS256' });
  const verified = new VerifiedTokenCache({ maxTokens: 10_000, maxAgeMs: 60_000 });
  return (req, res, next) => {
    if (tokenInQuery(req.query)) return next(unauthorized(`${BEARER_ONLY}; a token in the query string is refused`));
    const known = verified.lookup(req);
    if (known) {
      req.auth = known;
      return next();
    }
    validate(req, res, (error?: unknown) => {
      if (!error) {
        verified.remember(req);
        return next();
      }
      if (error instanceof InvalidRequestError) return next(unauthorized(`${BEARER_ONLY}`));
      const message = (error as Error).message ?? '';
      const unreachable = !(error instanceof UnauthorizedError) || ISSUER_UNREACHABLE.some((p) => p.test(message));
      next(unreachable ? serviceUnavailable('Authorization server') : error);
    });
  };
}

/**
 * 403 unless the token carries every scope named; the message names them (the library's says only
 * "Insufficient Scope" or "Missing 'scope' claim"), and its WWW-Authenticate header (RFC 6750) is kept.
 */
export const requireScopes = (scopes: string): RequestHandler => namingScopes(requiredScopes(scopes), scopes, 'and');

/** 403 unless the token carries at least one of the scopes named; the message names them. */
export const requireAnyScope = (scopes: string): RequestHandler => namingScopes(scopeIncludesAny(scopes), scopes, 'or');

/** The library's scope check, with a 403 whose message says which scopes the call needs. */
function namingScopes(check: RequestHandler, scopes: string, joiner: 'and' | 'or'): RequestHandler {
  return (req, res, next) =>
    check(req, res, (error?: unknown) => {
      if (!(error instanceof InsufficientScopeError)) return next(error);
      const headers = error.headers as Record<string, string>;
      next(new HttpError(403, `This call needs a token with the scope ${scopes.split(' ').join(` ${joiner} `)}`, headers));
    });
}

/** Whether the (already validated) token carries `scope`. */
export function hasScope(req: Request, scope: string): boolean {
  const granted = req.auth?.payload.scope;
  return typeof granted === 'string' && granted.split(' ').includes(scope);
}

/** The caller's identity (`sub`), set by bearerAuth. */
export function callerSubject(req: Request): string {
  const sub = req.auth?.payload.sub;
  if (!sub) throw new UnauthorizedError('Token has no subject');
  return sub;
}
