import type { Db } from 'mongodb';
import { deliveriesCollection, type DeliveryRecord, type Logger } from '@novee/shared';

/**
 * Every delivery attempt is written twice: one winston JSON line (for log pipelines) and one document in
 * MongoDB `deliveries` (for the delivery log API). Neither contains the secret or the full URL.
 */
export class DeliveryLog {
  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

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
    // The log line above already holds the attempt; a MongoDB outage must not turn a delivered event into a retry.
    await deliveriesCollection(this.db)
      .insertOne({ ...attempt, createdAt: new Date() })
      .catch((error: Error) => this.logger.error('could not store delivery record', { eventId: attempt.eventId, error }));
  }
}
