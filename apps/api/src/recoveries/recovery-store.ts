import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import type { Counter } from 'prom-client';
import { QueueQuotaExceededError, deliveriesCollection, type EventProducer, type SubscribableType } from '@novee/shared';
import { notFound } from '../http/http-error';

/**
 * How far back a recovery may reach: failed jobs, which hold the payloads, stay in the queue 7 days (README,
 * Retries), so older events cannot be re-sent.
 */
export const RECOVERY_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

/** A bulk recovery as stored in MongoDB `recoveries`. */
interface RecoveryDocument {
  _id: string;
  projectId: string;
  since: Date;
  until: Date;
  types: SubscribableType[] | null;
  /** Events re-sent (new jobs, same event ids). */
  eventIds: string[];
  /** Events that failed in the window but could not be re-sent (payload no longer in the queue, or the quota). */
  notQueued: string[];
  createdAt: Date;
}

export interface RecoveryRequest {
  since: Date;
  until: Date;
  types?: SubscribableType[];
}

/**
 * Bulk recovery: every event of a project whose final outcome in a window is failed is sent again, as new jobs in
 * the normal queue (the bulk lane, so live events go first, and endpoint isolation paces them), with the same
 * event ids; their attempts carry `recovery` in the delivery log. Progress is read back from that log.
 */
export class RecoveryStore {
  constructor(
    private readonly db: Db,
    private readonly producer: EventProducer,
    private readonly recovered: Counter<'outcome'>,
  ) {}

  private get collection() {
    return this.db.collection<RecoveryDocument>('recoveries');
  }

  async start(projectId: string, request: RecoveryRequest): Promise<{ recoveryId: string; count: number }> {
    const eventIds = await this.failedEvents(projectId, request);
    const recoveryId = randomUUID();
    const queued: string[] = [];
    const notQueued: string[] = [];
    for (const eventId of eventIds) {
      try {
        if (await this.producer.recover(eventId, recoveryId)) queued.push(eventId);
        else notQueued.push(eventId);
      } catch (error) {
        if (!(error instanceof QueueQuotaExceededError)) throw error;
        notQueued.push(eventId);
      }
    }
    this.recovered.inc({ outcome: 'queued' }, queued.length);
    this.recovered.inc({ outcome: 'not_queued' }, notQueued.length);
    await this.collection.insertOne({
      _id: recoveryId,
      projectId,
      since: request.since,
      until: request.until,
      types: request.types ?? null,
      eventIds: queued,
      notQueued,
      createdAt: new Date(),
    });
    return { recoveryId, count: queued.length };
  }

  /** Progress: per re-sent event, delivered, failed for good, or still pending (queued or retrying). */
  async progress(projectId: string, recoveryId: string) {
    const recovery = await this.collection.findOne({ _id: recoveryId, projectId });
    if (!recovery) throw notFound(`No recovery ${recoveryId} for project ${projectId}`);
    const attempts = await deliveriesCollection(this.db)
      .find({ projectId, recovery: recoveryId }, { projection: { eventId: 1, status: 1, final: 1 } })
      .toArray();
    const delivered = new Set(attempts.filter((a) => a.status === 'delivered').map((a) => a.eventId));
    const failed = new Set(attempts.filter((a) => a.status === 'rejected' || (a.status === 'failed' && a.final)).map((a) => a.eventId));
    for (const eventId of delivered) failed.delete(eventId);
    const pending = recovery.eventIds.length - delivered.size - failed.size;
    return {
      recoveryId,
      projectId,
      since: recovery.since.toISOString(),
      until: recovery.until.toISOString(),
      types: recovery.types,
      status: pending > 0 ? 'running' : 'done',
      count: recovery.eventIds.length,
      delivered: delivered.size,
      failed: failed.size,
      pending,
      notQueued: recovery.notQueued.length,
      createdAt: recovery.createdAt.toISOString(),
    };
  }

  /** Events whose last attempt in the window failed for good, and that were never delivered afterwards. */
  private async failedEvents(projectId: string, { since, until, types }: RecoveryRequest): Promise<string[]> {
    const deliveries = deliveriesCollection(this.db);
    const finalFailures = await deliveries
      .find(
        {
          projectId,
          status: 'failed',
          final: true,
          createdAt: { $gte: since, $lte: until },
          ...(types && { webhookType: { $in: types } }),
        },
        { projection: { eventId: 1 } },
      )
      .toArray();
    const candidates = [...new Set(finalFailures.map((record) => record.eventId))];
    if (candidates.length === 0) return [];
    const delivered = await deliveries
      .find({ projectId, eventId: { $in: candidates }, status: 'delivered' }, { projection: { eventId: 1 } })
      .toArray();
    const deliveredIds = new Set(delivered.map((record) => record.eventId));
    return candidates.filter((eventId) => !deliveredIds.has(eventId));
  }
}
