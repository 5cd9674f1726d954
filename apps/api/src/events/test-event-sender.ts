import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from 'mongodb';
import { deliveriesCollection, type DeliveryRecord, type EventProducer } from '@novee/shared';

export type TestEventOutcome =
  | { eventId: string; finished: false }
  | { eventId: string; finished: true; delivered: boolean; statusCode?: number; error?: string; durationMs?: number };

const POLL_INTERVAL_MS = 100;

/**
 * Sends the TEST event through the same queue and worker as real events, then waits briefly for the
 * worker's first attempt record so the caller sees what their receiver answered. The API never talks to
 * the receiver itself.
 */
export class TestEventSender {
  constructor(
    private readonly producer: EventProducer,
    private readonly db: Db,
    private readonly waitMs: number,
  ) {}

  async send(projectId: string): Promise<TestEventOutcome> {
    const { eventId } = await this.producer.enqueueTest(projectId);
    const deadline = Date.now() + this.waitMs;
    while (Date.now() < deadline) {
      const attempt = await this.firstAttempt(eventId);
      if (attempt) {
        const { status, statusCode, error, durationMs } = attempt;
        return { eventId, finished: true, delivered: status === 'delivered', statusCode, error, durationMs };
      }
      await sleep(POLL_INTERVAL_MS);
    }
    return { eventId, finished: false };
  }

  private firstAttempt(eventId: string): Promise<DeliveryRecord | null> {
    return deliveriesCollection(this.db).findOne({ eventId }, { sort: { attempt: 1 }, projection: { _id: 0 } });
  }
}
