import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { eventFingerprint } from '../idempotency/event-fingerprint';
import { IdempotencyKeyReusedError } from '../idempotency/idempotency-errors';
import type { IdempotencyClaim, IdempotencyStore } from '../idempotency/idempotency-store';
import { QueueQuotaExceededError, type QueuedEventsQuota } from '../quotas/queued-events-quota';
import { deliveryJobOptions, type DeliveryJobData } from './delivery-job';
import { QueueUnavailableError, addAllConfirmed, settleBy } from './enqueue-outcome';
import type { CheckedDeviceEvent, Enqueued } from './event-producer';
import type { ProjectBurstCounter } from './project-burst-counter';

/** One event of a batch, already checked, with its own Idempotency-Key if any. */
export interface BatchEvent {
  event: CheckedDeviceEvent;
  idempotencyKey?: string;
}

/**
 * One event's outcome in a batch: enqueued (or replayed), or why not. The error is one the single enqueue
 * would have thrown: EventValidationError, InvalidIdempotencyKeyError, IdempotencyKeyReusedError,
 * QueueQuotaExceededError, QueueUnavailableError (known not enqueued) or EnqueueOutcomeUnknownError.
 */
export type EnqueueManyResult = Enqueued | { error: Error };

export const isEnqueued = (result: EnqueueManyResult): result is Enqueued => !('error' in result);

/** What the batch path shares with EventProducer: its queue, its Redis stores and its settings. */
export interface BatchEnqueueContext {
  queue: Queue<DeliveryJobData>;
  idempotency: IdempotencyStore;
  quota: QueuedEventsQuota;
  bursts: ProjectBurstCounter;
  retrySchedule: number[];
  enqueueTimeoutMs: number;
}

/** An event ready to be added (its key claimed, counted against its project's cap, its lane chosen), or why not. */
type Prepared = { error: Error } | { state: IdempotencyClaim['state']; eventId: string; lane: 'normal' | 'bulk' };

const isCallerError = (error: unknown) => error instanceof IdempotencyKeyReusedError || error instanceof QueueQuotaExceededError;
/** An error Redis gave for one event's command alone: that event is known not enqueued. */
const eventError = (error: Error) => (isCallerError(error) ? error : new QueueUnavailableError(error));

/**
 * EventProducer.enqueueMany's work: the same steps and guarantees as enqueueChecked, each step done for the
 * whole batch in one round trip (claim the keys, reserve the quota, count the bursts, addBulk, mark the keys)
 * instead of one per event. Each event is on its own: one refused by a step is left out of the next ones and
 * never stops the others. Redis failing a whole step before the add makes every event not enqueued (no add
 * is sent after the deadline); the add's outcome is made exact per event by addAllConfirmed.
 */
export async function enqueueBatch(ctx: BatchEnqueueContext, batch: BatchEvent[]): Promise<EnqueueManyResult[]> {
  if (batch.length === 0) return [];
  const deadline = Date.now() + ctx.enqueueTimeoutMs;
  const enqueuedAt = Date.now();
  // Fresh event ids counted against their project's cap: released again if they are known not to be added.
  // (A pending key's id may be counted for a job an earlier request did add: that one is never released here.)
  const reserved = new Map<number, { projectId: string; jobId: string }>();
  const releaseUnadded = (added: (index: number) => boolean) => {
    const jobs = [...reserved].filter(([index]) => !added(index)).map(([, job]) => job);
    if (jobs.length > 0) ctx.quota.releaseMany(jobs).catch(() => undefined); // best effort: they age out anyway
  };

  const preparing = (async () => {
    await ctx.queue.client; // BullMQ's connection is ready (it waits forever otherwise)
    return prepare(ctx, batch, enqueuedAt, reserved);
  })();
  const outcome = await settleBy(preparing, deadline);
  if (outcome.ok !== true) {
    // Nothing of this batch is added now: once the preparation is over, what it reserved no longer counts.
    void preparing.then(
      () => releaseUnadded(() => false),
      () => releaseUnadded(() => false),
    );
    const cause = outcome.ok === false ? outcome.error : new Error(`no answer from Redis in ${ctx.enqueueTimeoutMs} ms`);
    return batch.map(() => ({ error: new QueueUnavailableError(cause) }));
  }
  const prepared = outcome.value;

  const toAdd = prepared.flatMap((p, index) => ('error' in p || p.state === 'enqueued' ? [] : [{ index, ...p }]));
  const jobs = toAdd.map(({ index, eventId, lane }) => {
    const { event } = batch[index]!;
    const data: DeliveryJobData = { ...event, eventId, enqueuedAt };
    return { name: event.webhookType, data, opts: deliveryJobOptions(eventId, event.webhookType, ctx.retrySchedule, lane) };
  });
  const eventIds = toAdd.map(({ eventId }) => eventId);
  const keyMarks = (added: (i: number) => boolean) =>
    toAdd.flatMap(({ index, eventId }, i) => {
      const key = batch[index]!.idempotencyKey;
      return key !== undefined && added(i) ? [{ key, eventId }] : [];
    });
  const added =
    jobs.length === 0
      ? []
      : await addAllConfirmed(
          () => ctx.queue.addBulk(jobs),
          async () => {
            const client = await ctx.queue.client;
            // Sent together, answered in one round trip.
            return Promise.all(eventIds.map(async (id) => (await client.hexists(ctx.queue.toKey(id), 'data')) === 1));
          },
          eventIds,
          deadline,
          () => void ctx.idempotency.markManyEnqueued(keyMarks(() => true)).catch(() => {}),
        );

  const results: EnqueueManyResult[] = prepared.map((p) => {
    if ('error' in p) return { error: p.error };
    return { eventId: p.eventId, lane: 'normal', replayed: true }; // enqueued before; the added ones follow
  });
  toAdd.forEach(({ index, eventId, lane, state }, i) => {
    const outcome = added[i]!;
    results[index] = outcome === 'added' ? { eventId, lane, replayed: state === 'pending' } : { error: outcome };
  });
  releaseUnadded((index) => {
    const result = results[index]!;
    return isEnqueued(result) || !(result.error instanceof QueueUnavailableError);
  });
  // Once the jobs are confirmed the answer stands whatever happens here: an unmarked key is repaired on its next use.
  const marks = keyMarks((i) => added[i] === 'added');
  if (marks.length > 0) await settleBy(ctx.idempotency.markManyEnqueued(marks), Date.now() + ctx.enqueueTimeoutMs);
  return results;
}

/** Claim the keys, reserve the quota, choose the lanes: one round trip per step, each event on its own. */
async function prepare(
  ctx: BatchEnqueueContext,
  batch: BatchEvent[],
  enqueuedAt: number,
  reserved: Map<number, { projectId: string; jobId: string }>,
): Promise<Prepared[]> {
  const claims: Array<IdempotencyClaim | Error> = batch.map(() => ({ state: 'new', eventId: randomUUID() }));
  const keyed = indicesWhere(batch, ({ idempotencyKey }) => idempotencyKey !== undefined);
  const claimed = await ctx.idempotency.claimMany(
    keyed.map((index) => {
      const { event, idempotencyKey } = batch[index]!;
      return { key: idempotencyKey!, projectId: event.projectId, fingerprint: eventFingerprint(event), eventId: randomUUID() };
    }),
  );
  keyed.forEach((index, i) => (claims[index] = claimed[i]!));

  // 429 beyond the project's cap; a key's repeat of an event already known enqueued counts against nothing.
  const toReserve = indicesWhere(claims, (claim) => !(claim instanceof Error) && claim.state !== 'enqueued');
  const reservations = await ctx.quota.reserveMany(
    toReserve.map((index) => {
      const { projectId, webhookType } = batch[index]!.event;
      return { projectId, jobId: (claims[index] as IdempotencyClaim).eventId, webhookType };
    }),
  );
  toReserve.forEach((index, i) => {
    const claim = claims[index] as IdempotencyClaim;
    const refused = reservations[i];
    if (refused) claims[index] = refused;
    else if (claim.state === 'new') reserved.set(index, { projectId: batch[index]!.event.projectId, jobId: claim.eventId });
  });

  // The lane: only a new event counts against its project's per-second share (a key's repeat is the same event).
  const fresh = indicesWhere(claims, (claim) => !(claim instanceof Error) && claim.state === 'new');
  const overShare = await ctx.bursts.overShareMany(
    fresh.map((index) => batch[index]!.event),
    enqueuedAt,
  );
  const lanes = new Map(fresh.map((index, i) => [index, overShare[i]!]));

  return claims.map((claim, index): Prepared => {
    if (claim instanceof Error) return { error: eventError(claim) };
    const over = lanes.get(index);
    if (over instanceof Error) return { error: eventError(over) };
    return { ...claim, lane: over ? 'bulk' : 'normal' };
  });
}

function indicesWhere<T>(items: readonly T[], test: (item: T) => boolean): number[] {
  return items.flatMap((item, index) => (test(item) ? [index] : []));
}
