import type { Db } from 'mongodb';
import { projectsCollection, settleWithin } from '@novee/shared';
import { serviceUnavailable } from '../http/http-error';

interface Entry {
  /** The project's member `sub`s, or null when there is no such project. */
  members: string[] | null;
  /** When MongoDB gave this answer (Unix ms). */
  fetchedAt: number;
  /** Not asked again before this (Unix ms): freshness, or a pause after a failed lookup. */
  reuseUntil: number;
}

export interface ProjectMembersCacheOptions {
  /** Reuse an answer this long before asking MongoDB again (PROJECT_CACHE_TTL_MS). */
  ttlMs: number;
  /** Projects remembered (least recently used dropped first). */
  maxProjects?: number;
  /** While MongoDB is down, a known project's members are served for this long after they were read. */
  staleIfErrorMs?: number;
  /** A lookup slower than this counts as MongoDB down (the driver waits for server selection much longer). */
  lookupTimeoutMs?: number;
}

/**
 * Project membership for the ingestion hot path: one MongoDB read per project every few seconds instead of one
 * per event, concurrent misses for a project share one read, and a known project's answer outlives a MongoDB
 * outage (a fall alert must not be refused because MongoDB blinked). An unknown project with MongoDB down is a
 * 503: it may have been created since. Each API process has its own cache, bounded in size.
 */
export class ProjectMembersCache {
  private readonly entries = new Map<string, Entry>();
  private readonly lookups = new Map<string, Promise<Entry>>();
  private readonly maxProjects: number;
  private readonly staleIfErrorMs: number;
  private readonly lookupTimeoutMs: number;

  constructor(
    private readonly db: Db,
    private readonly options: ProjectMembersCacheOptions,
  ) {
    this.maxProjects = options.maxProjects ?? 10_000;
    this.staleIfErrorMs = options.staleIfErrorMs ?? 60 * 60_000;
    this.lookupTimeoutMs = options.lookupTimeoutMs ?? 1_000;
  }

  /** The project's members, or null when it does not exist; throws a 503 when that cannot be known. */
  async members(projectId: string): Promise<string[] | null> {
    const cached = this.entries.get(projectId);
    const now = Date.now();
    if (cached && now < cached.reuseUntil) return this.touch(projectId, cached).members;
    const fresh = await settleWithin(this.lookup(projectId), this.lookupTimeoutMs).catch(() => 'failed' as const);
    if (fresh !== 'timed out' && fresh !== 'failed') return fresh.members;
    if (cached?.members && now - cached.fetchedAt < this.staleIfErrorMs) {
      // MongoDB is down: serve what we knew, and do not wait on it again for every event.
      this.touch(projectId, { ...cached, reuseUntil: now + Math.max(this.options.ttlMs, this.lookupTimeoutMs) });
      return cached.members;
    }
    throw serviceUnavailable('Database');
  }

  /** One read per project at a time; its answer is cached for ttlMs. */
  private lookup(projectId: string): Promise<Entry> {
    let pending = this.lookups.get(projectId);
    if (!pending) {
      pending = projectsCollection(this.db)
        .findOne({ _id: projectId }, { projection: { members: 1 } })
        .then((project) => {
          const fetchedAt = Date.now();
          const entry = { members: project ? (project.members ?? []) : null, fetchedAt, reuseUntil: fetchedAt + this.options.ttlMs };
          this.touch(projectId, entry);
          return entry;
        })
        .finally(() => this.lookups.delete(projectId));
      this.lookups.set(projectId, pending);
    }
    return pending;
  }

  /** Store as most recently used (a Map iterates in insertion order, so the first key is the least recent). */
  private touch(projectId: string, entry: Entry): Entry {
    this.entries.delete(projectId);
    this.entries.set(projectId, entry);
    if (this.entries.size > this.maxProjects) this.entries.delete(this.entries.keys().next().value!);
    return entry;
  }
}
