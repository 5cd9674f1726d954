import type { Redis } from 'ioredis';
import { readRegistrationVersion, type WebhookRegistrationDocument } from '@novee/shared';
import type { RegistrationLookup } from './registration-lookup';

type Entry = { value: WebhookRegistrationDocument | null; version: string | null; expiresAt: number };

/** MongoDB could not be asked for a registration whose cached copy is out of date (or missing). */
export class RegistrationUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`registration lookup failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'RegistrationUnavailableError';
  }
}

export interface RegistrationCacheOptions {
  /** Refresh an unchanged registration from MongoDB after this long anyway (a safety net, not correctness). */
  ttlMs: number;
  /** "No webhook registered" is kept only this long: a registration whose version mark was lost shows soon. */
  absentTtlMs: number;
  maxEntries: number;
}

/**
 * Keeps registrations in memory so a delivery does not cost a MongoDB read. Each delivery reads the
 * registration's version from Redis (one pipelined GET) and uses the cached copy only while the version is the
 * one it was read under, so a change the API has answered is never missed, even if announcements are lost.
 * While MongoDB is down, an unchanged registration is still served from memory; a changed one cannot be, and
 * the lookup fails with RegistrationUnavailableError (the job waits; no attempt is used).
 */
export class RegistrationCache {
  private readonly entries = new Map<string, Entry>();
  private readonly options: RegistrationCacheOptions;

  constructor(
    private readonly lookup: RegistrationLookup,
    private readonly redis: Redis,
    private readonly queuePrefix: string,
    options: Partial<RegistrationCacheOptions> = {},
  ) {
    this.options = { ttlMs: 60_000, absentTtlMs: 5_000, maxEntries: 50_000, ...options };
  }

  async find(projectId: string): Promise<WebhookRegistrationDocument | null> {
    // Read before the lookup: a change after this read gives a new version, and the next find refetches.
    const version = await readRegistrationVersion(this.redis, this.queuePrefix, projectId);
    const cached = this.entries.get(projectId);
    const current = cached !== undefined && cached.version === version;
    if (current && cached.expiresAt > Date.now()) return cached.value;
    let value: WebhookRegistrationDocument | null;
    try {
      value = await this.lookup.find(projectId);
    } catch (error) {
      if (current && cached.value) return cached.value; // unchanged: still right, only due for a refresh
      throw new RegistrationUnavailableError(error);
    }
    if (this.entries.size >= this.options.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    const ttl = value ? this.options.ttlMs : this.options.absentTtlMs;
    this.entries.set(projectId, { value, version, expiresAt: Date.now() + ttl });
    return value;
  }
}
