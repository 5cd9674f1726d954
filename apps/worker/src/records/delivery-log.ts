import type { Logger } from '@novee/shared';
import type { AttemptJournal, AttemptRecord } from './attempt-journal';

/**
 * Every delivery attempt is written twice: one winston JSON line at once (for log pipelines) and one document
 * in MongoDB `deliveries` (for the delivery log API), which goes through the Redis outbox (AttemptJournal) so
 * that neither a MongoDB outage nor a worker crash can lose it. Neither form contains the secret or the full URL.
 */
export class DeliveryLog {
  constructor(
    private readonly journal: AttemptJournal,
    private readonly logger: Logger,
  ) {}

  /** The attempt's request is about to be sent: if this worker dies now, the attempt is still recorded. */
  async started(attemptId: string, attempt: Pick<AttemptRecord, 'eventId' | 'projectId' | 'webhookType' | 'attempt' | 'urlHost' | 'redelivery'>): Promise<void> {
    await this.journal.started(attemptId, attempt);
  }

  /** Log and durably record one attempt (clearing its started mark, when it had one). */
  async record(attempt: AttemptRecord, attemptId?: string): Promise<void> {
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
    await this.journal.append(attempt, attemptId);
  }
}
