import { randomUUID } from 'node:crypto';
import { Queue, type ConnectionOptions } from 'bullmq';
import type { DeviceEvent, InternalEvent } from '../events/event-types';
import { validateInternalEvent } from '../events/validate-event';
import { eventFingerprint } from '../idempotency/event-fingerprint';
import { IdempotencyKeyReusedError, InvalidIdempotencyKeyError } from '../idempotency/idempotency-errors';
import { DEFAULT_IDEMPOTENCY_TTL_MS, IdempotencyStore } from '../idempotency/idempotency-store';
import { deliveryJobOptions, type DeliveryJobData } from './delivery-job';
import { QueueUnavailableError, addConfirmed, settleBy } from './enqueue-outcome';
import { enqueueBatch, type BatchEvent, type EnqueueManyResult } from './enqueue-many';
import { DEFAULT_PROJECT_BURST_PER_SECOND, ProjectBurstCounter } from './project-burst-counter';
import { DEFAULT_QUEUE_PREFIX, DELIVERY_QUEUE } from './queue-names';
import { DEFAULT_RETRY_SCHEDULE, parseRetrySchedule } from './retry-schedule';
import {
  DEFAULT_PROJECT_MAX_QUEUED_EVENTS,
  DEFAULT_PROJECT_MAX_QUEUED_FALL_EVENTS,
  QueueQuotaExceededError,
  QueuedEventsQuota,
  forgetQueuedAfterMs,
} from '../quotas/queued-events-quota';

export class EventValidationError extends Error {
  constructor(readonly errors: string[]) {
    super(`Invalid event: ${errors.join('; ')}`);
    this.name = 'EventValidationError';
  }
}

declare const checkedMark: unique symbol;
/** An event that passed checkDeviceEvent (a compile-time mark: EventProducer.enqueueChecked takes only these). */
export type CheckedDeviceEvent = DeviceEvent & { readonly [checkedMark]: true };

/** A FALL_DETECTION or VITAL_THRESHOLD event, checked; throws EventValidationError naming each problem. */
export function checkDeviceEvent(event: unknown): CheckedDeviceEvent {
  const result = validateInternalEvent(event);
  if (!result.valid) throw new EventValidationError(result.errors);
  if (result.value.webhookType === 'TEST') {
    throw new EventValidationError(['webhookType TEST is only sent by the test endpoint']);
  }
  return result.value as CheckedDeviceEvent;
}

export interface EventProducerOptions {
  /** An ioredis instance or connection options. Producers should fail fast, so disable the offline queue. */
  connection: ConnectionOptions;
  prefix?: string;
  /**
   * How long an enqueue may wait for Redis (BullMQ otherwise waits for a connection forever). Default 3 s.
   * Within it the outcome is made exact: QueueUnavailableError only when the event is known not to be in the
   * queue, EnqueueOutcomeUnknownError when Redis stalled after the job was sent (see addConfirmed).
   */
  enqueueTimeoutMs?: number;
  /** Retry delays in ms for the events this producer enqueues (default DEFAULT_RETRY_SCHEDULE). */
  retrySchedule?: number[];
  /** A project's events beyond this many per second go to the bulk lane (default DEFAULT_PROJECT_BURST_PER_SECOND). */
  projectBurstPerSecond?: number;
  /** How long an idempotency key keeps answering with its event (default 24 h). */
  idempotencyTtlMs?: number;
  /** Per-project caps on queued events (see QueuedEventsQuota); defaults 10,000 and 20,000 for FALL_DETECTION. */
  maxQueuedEvents?: { maxQueued: number; maxQueuedFall: number };
}

export interface Enqueued {
  eventId: string;
  lane: 'normal' | 'bulk';
  /** True when the idempotency key had already enqueued this event: nothing new was added (lane is then 'normal'). */
  replayed: boolean;
}

export interface EnqueueOptions {
  /**
   * The same key with the same project and event returns the same eventId (and enqueues once) for
   * `idempotencyTtlMs`, whatever became of the job; with another project or event it throws
   * IdempotencyKeyReusedError. 1-255 printable ASCII characters (the API requires a UUID).
   */
  idempotencyKey?: string;
}

export interface EnqueueManyOptions {
  /**
   * One key for the batch: event i uses `${idempotencyKey}:${i}`, so sending the same batch again (same
   * events, same order) enqueues nothing twice and answers the same eventIds.
   */
  idempotencyKey?: string;
  /** Or a key per event (undefined: none), e.g. the pipeline's own ids for its events. */
  idempotencyKeys?: ReadonlyArray<string | undefined>;
}

/** Errors that are the caller's, not Redis's: they pass through unchanged. */
const isCallerError = (error: unknown) => error instanceof IdempotencyKeyReusedError || error instanceof QueueQuotaExceededError;

/**
 * The typed producer used by the API and by upstream pipelines that write to BullMQ directly.
 * Events are validated before they are enqueued, so a bad event fails at its source, loudly.
 * The event id is a fresh UUID (the job id too); an idempotency key maps to it in Redis, see IdempotencyStore.
 */
export class EventProducer {
  readonly queue: Queue<DeliveryJobData>;
  private readonly enqueueTimeoutMs: number;
  private readonly retrySchedule: number[];
  private readonly bursts: ProjectBurstCounter;
  private readonly idempotency: IdempotencyStore;
  private readonly quota: QueuedEventsQuota;

  constructor(options: EventProducerOptions) {
    this.retrySchedule = options.retrySchedule ?? parseRetrySchedule(DEFAULT_RETRY_SCHEDULE);
    this.enqueueTimeoutMs = options.enqueueTimeoutMs ?? 3_000;
    const prefix = options.prefix ?? DEFAULT_QUEUE_PREFIX;
    this.queue = new Queue<DeliveryJobData>(DELIVERY_QUEUE, { connection: options.connection, prefix });
    // BullMQ re-emits its connection's errors (e.g. Redis down while it connects) on the queue; an EventEmitter
    // with no listener would throw them and crash the process. Callers learn of Redis trouble from enqueue's
    // errors (QueueUnavailableError, EnqueueOutcomeUnknownError) instead.
    this.queue.on('error', () => undefined);
    this.bursts = new ProjectBurstCounter(
      () => this.queue.client,
      prefix,
      options.projectBurstPerSecond ?? DEFAULT_PROJECT_BURST_PER_SECOND,
    );
    this.idempotency = new IdempotencyStore(() => this.queue.client, prefix, options.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS);
    this.quota = new QueuedEventsQuota(() => this.queue.client, prefix, {
      maxQueued: options.maxQueuedEvents?.maxQueued ?? DEFAULT_PROJECT_MAX_QUEUED_EVENTS,
      maxQueuedFall: options.maxQueuedEvents?.maxQueuedFall ?? DEFAULT_PROJECT_MAX_QUEUED_FALL_EVENTS,
      forgetAfterMs: forgetQueuedAfterMs(this.retrySchedule),
    });
  }

  /**
   * Enqueue a FALL_DETECTION or VITAL_THRESHOLD event. Throws EventValidationError when it is invalid,
   * IdempotencyKeyReusedError when its key was used for something else, QueueUnavailableError when it is
   * known not to be enqueued, EnqueueOutcomeUnknownError when Redis stalled before confirming it.
   * `lane`: 'bulk' when the event was beyond its project's per-second share (see ProjectBurstCounter).
   */
  async enqueue(event: DeviceEvent, options: EnqueueOptions = {}): Promise<Enqueued> {
    return this.enqueueChecked(checkDeviceEvent(event), options);
  }

  /** enqueue, for an event the caller has already checked (the API does, before its access checks). */
  async enqueueChecked(checked: CheckedDeviceEvent, { idempotencyKey }: EnqueueOptions = {}): Promise<Enqueued> {
    if (idempotencyKey !== undefined) IdempotencyStore.assertValidKey(idempotencyKey);
    const deadline = Date.now() + this.enqueueTimeoutMs;
    // The event counts against its project's share in the second of its enqueuedAt, so the lane follows from the
    // job's own data.
    const enqueuedAt = Date.now();

    // Nothing is added before this step is over, so a failure or timeout here is an exact "not enqueued".
    const prepared = await this.beforeAdd(deadline, async () => {
      const claim = idempotencyKey
        ? await this.idempotency.claim(idempotencyKey, checked.projectId, eventFingerprint(checked), randomUUID())
        : { state: 'new' as const, eventId: randomUUID() };
      if (claim.state === 'enqueued') return { ...claim, lane: 'normal' } as const;
      // 429 beyond the project's cap (counting an event id once, so a key's retry of a pending event is no extra),
      // and the lane, asked together (one round trip): an event refused by the cap still counts in its project's
      // share of this second, which only matters for a project that is at its cap anyway.
      // A key's repeat counts against no share: it is the same event, most likely already queued.
      const [, overShare] = await Promise.all([
        this.quota.reserve(checked.projectId, claim.eventId, checked.webhookType),
        claim.state === 'new' ? this.bursts.overShare(checked.projectId, checked.webhookType, enqueuedAt) : false,
      ]);
      return { ...claim, lane: overShare ? 'bulk' : 'normal' } as const;
    });
    if (prepared.state === 'enqueued') return { eventId: prepared.eventId, lane: 'normal', replayed: true };

    const markEnqueued = () => (idempotencyKey ? this.idempotency.markEnqueued(idempotencyKey, prepared.eventId) : Promise.resolve());
    await this.add(checked, prepared.eventId, prepared.lane, deadline, enqueuedAt, () => void markEnqueued().catch(() => {})).catch(
      this.unreserve(checked.projectId, prepared.eventId),
    );
    // Once the job is confirmed the answer is 202 whatever happens here: an unmarked key is repaired on its next use.
    if (idempotencyKey) await settleBy(markEnqueued(), Date.now() + this.enqueueTimeoutMs);
    return { eventId: prepared.eventId, lane: prepared.lane, replayed: prepared.state === 'pending' };
  }

  /**
   * Enqueue many events in one go (BullMQ's addBulk; each Redis step done for the whole batch in one round
   * trip). Never throws for one event: the results, in input order, are each `{eventId, lane, replayed}` as
   * enqueue returns, or `{error}` with the error enqueue would have thrown for that event alone. Each event is
   * atomic: enqueued, or reported as not enqueued (QueueUnavailableError) or not confirmed
   * (EnqueueOutcomeUnknownError), whatever becomes of the others.
   */
  async enqueueMany(events: readonly DeviceEvent[], options: EnqueueManyOptions = {}): Promise<EnqueueManyResult[]> {
    if (options.idempotencyKey !== undefined && options.idempotencyKeys !== undefined) {
      throw new TypeError('enqueueMany takes idempotencyKey or idempotencyKeys, not both');
    }
    const keyOf = (i: number) => (options.idempotencyKey !== undefined ? `${options.idempotencyKey}:${i}` : options.idempotencyKeys?.[i]);
    const results = new Array<EnqueueManyResult>(events.length);
    const batch: Array<BatchEvent & { index: number }> = [];
    events.forEach((event, index) => {
      try {
        batch.push({ index, event: checkDeviceEvent(event), idempotencyKey: keyOf(index) });
      } catch (error) {
        if (!(error instanceof EventValidationError)) throw error;
        results[index] = { error };
      }
    });
    const enqueued = await this.enqueueManyChecked(batch);
    batch.forEach(({ index }, i) => (results[index] = enqueued[i]!));
    return results;
  }

  /** enqueueMany, for events the caller has already checked (and whose keys it has derived), as the API does. */
  async enqueueManyChecked(batch: readonly BatchEvent[]): Promise<EnqueueManyResult[]> {
    const context = {
      queue: this.queue,
      idempotency: this.idempotency,
      quota: this.quota,
      bursts: this.bursts,
      retrySchedule: this.retrySchedule,
      enqueueTimeoutMs: this.enqueueTimeoutMs,
    };
    // A key the store cannot hold refuses its event only (the API's keys are UUIDs plus an index).
    const results = new Array<EnqueueManyResult>(batch.length);
    const valid: Array<BatchEvent & { index: number }> = [];
    batch.forEach(({ event, idempotencyKey }, index) => {
      try {
        if (idempotencyKey !== undefined) IdempotencyStore.assertValidKey(idempotencyKey);
        valid.push({ index, event, idempotencyKey });
      } catch (error) {
        if (!(error instanceof InvalidIdempotencyKeyError)) throw error;
        results[index] = { error };
      }
    });
    const enqueued = await enqueueBatch(context, valid);
    valid.forEach(({ index }, i) => (results[index] = enqueued[i]!));
    return results;
  }

  /** Enqueue the TEST event `{"test":"test"}` for a project (interactive: always the normal lane). */
  async enqueueTest(projectId: string): Promise<Enqueued> {
    const deadline = Date.now() + this.enqueueTimeoutMs;
    const eventId = randomUUID();
    await this.beforeAdd(deadline, () => Promise.resolve());
    await this.add({ projectId, userUUID: 'test', webhookType: 'TEST', data: { test: 'test' } }, eventId, 'normal', deadline, Date.now());
    return { eventId, lane: 'normal', replayed: false };
  }

  /**
   * Send an earlier event again, as a new job with the same eventId (receivers see the same X-Event-Id).
   * Returns null when the event's payload is no longer retained in the queue.
   */
  async redeliver(eventId: string): Promise<{ eventId: string; redeliveryId: string } | null> {
    return this.resend(eventId, 'redelivery', randomUUID().slice(0, 8), { redelivery: true }, 'normal');
  }

  /**
   * Re-send a failed event for a bulk recovery (same eventId, new job, at most once per recovery), in the bulk
   * lane so that live events go first. False when its payload is no longer retained in the queue.
   */
  async recover(eventId: string, recoveryId: string): Promise<boolean> {
    return (await this.resend(eventId, 'recovery', recoveryId, { recovery: recoveryId }, 'bulk')) !== null;
  }

  private async resend(
    eventId: string,
    kind: 'redelivery' | 'recovery',
    suffix: string,
    mark: Pick<DeliveryJobData, 'redelivery' | 'recovery'>,
    lane: 'normal' | 'bulk',
  ): Promise<{ eventId: string; redeliveryId: string } | null> {
    const original = await this.queue.getJob(eventId);
    if (!original) return null;
    const redeliveryId = `${eventId}-${kind}-${suffix}`;
    const { redelivery: _r, recovery: _c, ...data } = original.data;
    const job: DeliveryJobData = { ...data, ...mark, enqueuedAt: Date.now() };
    const options = { ...deliveryJobOptions(eventId, job.webhookType, this.retrySchedule, lane), jobId: redeliveryId };
    await this.withTimeout(this.quota.reserve(job.projectId, redeliveryId, job.webhookType));
    await this.withTimeout(this.queue.add(job.webhookType, job, options)).catch(this.unreserve(job.projectId, redeliveryId));
    return { eventId, redeliveryId };
  }

  async close(): Promise<void> {
    await this.queue.close();
  }

  /**
   * Run what must happen before the job is added (Redis ready, key claimed, lane chosen) within the deadline.
   * On timeout its result is dropped, so the add can never be sent after the caller was told "not enqueued".
   */
  private async beforeAdd<T>(deadline: number, work: () => Promise<T>): Promise<T> {
    const outcome = await settleBy(
      (async () => {
        await this.queue.client; // BullMQ's connection is ready (it waits forever otherwise)
        return work();
      })(),
      deadline,
    );
    if (outcome.ok === true) return outcome.value;
    if (outcome.ok === false && isCallerError(outcome.error)) throw outcome.error;
    throw new QueueUnavailableError(
      outcome.ok === false ? outcome.error : new Error(`no answer from Redis in ${this.enqueueTimeoutMs} ms`),
    );
  }

  /** Add the job (job id = event id) and confirm it is in the queue; see addConfirmed for the outcomes. */
  private async add(
    event: InternalEvent,
    eventId: string,
    lane: 'normal' | 'bulk',
    deadline: number,
    enqueuedAt: number,
    onLateSuccess?: () => void,
  ): Promise<void> {
    const job: DeliveryJobData = { ...event, eventId, enqueuedAt };
    const options = deliveryJobOptions(eventId, event.webhookType, this.retrySchedule, lane);
    await addConfirmed(
      () => this.queue.add(event.webhookType, job, options),
      async () => (await (await this.queue.client).hexists(this.queue.toKey(eventId), 'data')) === 1,
      eventId,
      deadline,
      onLateSuccess,
    );
  }

  /** A job known not to be queued no longer counts against its project's cap (best effort; it ages out anyway). */
  private unreserve(projectId: string, jobId: string) {
    return (error: unknown): never => {
      if (error instanceof QueueUnavailableError) this.quota.release(projectId, jobId).catch(() => undefined);
      throw error;
    };
  }

  /** Redelivery's bound on Redis (BullMQ waits for Redis forever): gives up after enqueueTimeoutMs. */
  private async withTimeout<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from Redis in ${this.enqueueTimeoutMs} ms`)), this.enqueueTimeoutMs);
    });
    try {
      return await Promise.race([work, timeout]);
    } catch (error) {
      if (error instanceof QueueQuotaExceededError) throw error;
      throw new QueueUnavailableError(error);
    } finally {
      clearTimeout(timer);
    }
  }
}
