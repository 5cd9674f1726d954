import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { serviceUnavailable } from '../http/http-error';

/** The cookie's name; scoped to /admin, HttpOnly, SameSite=Strict (see adminRoutes). */
export const ADMIN_SESSION_COOKIE = 'novee_admin';

/**
 * Browser sessions for Bull Board. A browser cannot add a bearer token to the board's own calls, so an admin
 * token is exchanged once for a random session id in an HttpOnly cookie. Sessions live in Redis (shared by
 * every API instance) under the id's SHA-256, so a Redis dump holds nothing a browser could present, and end
 * at the earlier of the session lifetime and the token's own expiry.
 */
export class AdminSessions {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {}

  /** A new session for `subject`; returns its id and lifetime (ms). */
  async create(subject: string, tokenExpiresAt: number | undefined, now = Date.now()): Promise<{ id: string; ttlMs: number }> {
    const ttlMs = Math.max(1_000, Math.min(this.ttlMs, tokenExpiresAt ? tokenExpiresAt * 1000 - now : this.ttlMs));
    const id = randomBytes(32).toString('base64url');
    await this.call(() => this.redis.set(this.key(id), subject, 'PX', ttlMs));
    return { id, ttlMs };
  }

  /** The session's subject, or null when it does not exist or has expired. */
  async subject(id: string): Promise<string | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
    return this.call(() => this.redis.get(this.key(id)));
  }

  async end(id: string): Promise<void> {
    await this.call(() => this.redis.del(this.key(id)));
  }

  private key(id: string): string {
    return `${this.prefix}:admin-session:${createHash('sha256').update(id).digest('hex')}`;
  }

  /** Redis down: the caller gets 503, not 500. */
  private async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch {
      throw serviceUnavailable('Session store');
    }
  }
}
