import { QueueEvents } from 'bullmq';
import type { Db } from 'mongodb';
import { deliveriesCollection, type DeliveryRecord, type EventProducer } from '@novee/shared';

export type TestEventOutcome =
  | { eventId: string; finished: false }
  | { eventId: string; finished: true; delivered: boolean; statusCode?: number; error?: string; durationMs?: number };

/**
 * Sends the TEST event through the same queue and worker as real events, then waits briefly for the
 * worker's verdict so the caller sees what their receiver answered.
 */
export class TestEventSender {
  constructor(
    private readonly producer: EventProducer,
    private readonly queueEvents: QueueEvents,
    private readonly db: Db,
    private readonly waitMs: number,
  ) {}

  async send(projectId: string): Promise<TestEventOutcome> {
    const { eventId } = await this.producer.enqueueTest(projectId);
    const job = await this.producer.queue.getJob(eventId);
    if (!job || this.waitMs === 0) return { eventId, finished: false };
    // Resolves or rejects once the worker is done; a rejection here is the delivery failing, or the wait ending.
    await job.waitUntilFinished(this.queueEvents, this.waitMs).catch(() => undefined);
    const attempt = await this.latestAttempt(eventId);
    if (!attempt) return { eventId, finished: false };
    return {
      eventId,
      finished: true,
      delivered: attempt.status === 'delivered',
      statusCode: attempt.statusCode,
      error: attempt.error,
      durationMs: attempt.durationMs,
    };
  }

  private latestAttempt(eventId: string): Promise<DeliveryRecord | null> {
    return deliveriesCollection(this.db).findOne({ eventId }, { sort: { attempt: -1 }, projection: { _id: 0 } });
  }
}
