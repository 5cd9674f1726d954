import type { Request } from 'express';
import { LRUCache } from 'lru-cache';

/** What express-oauth2-jwt-bearer sets on req.auth for a valid token. */
type VerifiedAuth = NonNullable<Request['auth']>;

export interface VerifiedTokenCacheOptions {
  /** Tokens remembered at once (the least recently used go first). */
  maxTokens: number;
  /** A token is re-verified after this long even if it is still valid (key rotation, issuer changes). */
  maxAgeMs: number;
}

const BEARER = /^Bearer ([A-Za-z0-9_.-]+)$/;

/**
 * Remembers access tokens that passed full verification (RS256 signature, issuer, audience, expiry), so a
 * pipeline posting hundreds of events a second with the same token pays for the signature check once a minute
 * instead of on every request (it was the largest cost of POST /events). Keyed by the whole token, signature
 * included, so only the very same bytes match; an entry never outlives the token's `exp`. Tokens bound to a
 * key (DPoP / mTLS `cnf` claim) need a proof on every request and are never cached.
 */
export class VerifiedTokenCache {
  private readonly tokens: LRUCache<string, VerifiedAuth>;

  constructor(private readonly options: VerifiedTokenCacheOptions) {
    this.tokens = new LRUCache({ max: options.maxTokens });
  }

  /** The verified auth of this request's bearer token, if it was verified recently and has not expired. */
  lookup(req: Request): VerifiedAuth | undefined {
    const token = bearerToken(req);
    if (token === undefined || req.headers.dpop !== undefined) return undefined;
    const auth = this.tokens.get(token);
    if (auth && expiresAtMs(auth) <= Date.now()) {
      this.tokens.delete(token);
      return undefined;
    }
    return auth;
  }

  /** After the library verified the request's token: remember it (until exp, at most maxAgeMs). */
  remember(req: Request): void {
    const token = bearerToken(req);
    const auth = req.auth;
    if (token === undefined || !auth || auth.token !== token || 'cnf' in auth.payload) return;
    const ttl = Math.min(expiresAtMs(auth) - Date.now(), this.options.maxAgeMs);
    if (ttl > 0) this.tokens.set(token, auth, { ttl });
  }
}

function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  return typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
}

/** A token without exp is never cached (ttl 0). */
const expiresAtMs = (auth: VerifiedAuth) => (typeof auth.payload.exp === 'number' ? auth.payload.exp * 1000 : 0);
