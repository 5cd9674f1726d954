import type { Redis } from 'ioredis';
import { registrationChangesChannel, type Logger, type WebhookRegistrationDocument } from '@novee/shared';
import type { RegistrationLookup } from './registration-lookup';

type Entry = { value: WebhookRegistrationDocument | null; expiresAt: number };

/**
 * Keeps registrations in memory so a delivery does not cost a MongoDB read. The API announces every change
 * on a Redis channel and the entry is dropped at once; the TTL is the safety net if an announcement is missed.
 * A read that overlaps a change is not cached (generation check), so a stale copy cannot outlive the change.
 */
export class RegistrationCache {
  private readonly entries = new Map<string, Entry>();
  private readonly generations = new Map<string, number>();

  constructor(
    private readonly lookup: RegistrationLookup,
    private readonly ttlMs: number,
    private readonly maxEntries = 50_000,
  ) {}

  async find(projectId: string): Promise<WebhookRegistrationDocument | null> {
    const cached = this.entries.get(projectId);
    if (cached && cached.expiresAt > Date.now()) return cached.value;
    const generation = this.generations.get(projectId) ?? 0;
    const value = await this.lookup.find(projectId);
    if ((this.generations.get(projectId) ?? 0) === generation) {
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(projectId, { value, expiresAt: Date.now() + this.ttlMs });
    }
    return value;
  }

  invalidate(projectId: string): void {
    this.entries.delete(projectId);
    this.generations.set(projectId, (this.generations.get(projectId) ?? 0) + 1);
  }

  /** Listen for the API's change announcements on a dedicated (subscriber) connection. */
  async subscribe(subscriber: Redis, queuePrefix: string, logger: Logger): Promise<void> {
    const channel = registrationChangesChannel(queuePrefix);
    subscriber.on('message', (from: string, projectId: string) => {
      if (from === channel) this.invalidate(projectId);
    });
    // After a reconnect we may have missed announcements: start clean.
    subscriber.on('ready', () => this.entries.clear());
    await subscriber
      .subscribe(channel)
      .catch((error: Error) => logger.warn('registration change channel unavailable; relying on the cache TTL', { error: error.message }));
  }
}
