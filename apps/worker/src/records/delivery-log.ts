import type { Logger } from '@novee/shared';
import type { EndpointSlot } from '../isolation/endpoint-guard';
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

  /** The job's request is about to be sent: if this worker dies now, the attempt is still recorded. */
  async started(
    jobId: string,
    attempt: Pick<AttemptRecord, 'eventId' | 'projectId' | 'webhookType' | 'attempt' | 'run' | 'urlHost' | 'redelivery' | 'recovery'>,
    slot: EndpointSlot,
  ): Promise<void> {
    await this.journal.started(jobId, attempt, slot);
  }

  /** A job taken over after its worker died: its interrupted attempt (if any) is recorded; returns that attempt's slot. */
  takeOver(jobId: string): Promise<EndpointSlot | null> {
    return this.journal.takeOver(jobId);
  }

  /** Log and durably record one attempt (clearing its job's started mark, when it had one). */
  async record(attempt: AttemptRecord, jobId?: string): Promise<void> {
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
      run: attempt.run,
      error: attempt.error,
    });
    await this.journal.append(attempt, jobId);
  }
}
