import type { Db } from 'mongodb';
import { deliveriesCollection, type DeliveryRecord, type Logger } from '@novee/shared';

/**
 * Every delivery attempt is written twice: one winston JSON line at once (for log pipelines) and one document
 * in MongoDB `deliveries` (for the delivery log API). Documents are batched (one insertMany per flush
 * interval or batch size) because a write per attempt was the largest cost per delivery; stop() flushes.
 * Neither form contains the secret or the full URL.
 */
export class DeliveryLog {
  private pending: DeliveryRecord[] = [];
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly options: { flushIntervalMs: number; maxBatch: number } = { flushIntervalMs: 50, maxBatch: 500 },
  ) {
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.timer.unref();
  }

  async record(attempt: Omit<DeliveryRecord, 'createdAt'>): Promise<void> {
    const level = attempt.status === 'delivered' ? 'info' : attempt.status === 'failed' ? 'warn' : 'error';
    this.logger.log(level, 'delivery attempt', {
      eventId: attempt.eventId,
      projectId: attempt.projectId,
      webhookType: attempt.webhookType,
      urlHost: attempt.urlHost,
      status: attempt.status,
      statusCode: attempt.statusCode,
      ms: attempt.durationMs,
      attempt: attempt.attempt,
      error: attempt.error,
    });
    this.pending.push({ ...attempt, createdAt: new Date() });
    if (this.pending.length >= this.options.maxBatch) await this.flush();
  }

  /** Write what is pending. Serialised, so batches land in order. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeBatch());
    return this.flushing;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async writeBatch(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    // The log lines already hold these attempts; a MongoDB outage must not turn delivered events into retries.
    await deliveriesCollection(this.db)
      .insertMany(batch, { ordered: false })
      .catch((error: Error) => this.logger.error('could not store delivery records', { count: batch.length, error }));
  }
}
