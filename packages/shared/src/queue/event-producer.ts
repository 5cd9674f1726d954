import { randomUUID } from 'node:crypto';
import { Queue, type ConnectionOptions } from 'bullmq';
import type { DeviceEvent, InternalEvent } from '../events/event-types';
import { validateInternalEvent } from '../events/validate-event';
import { deliveryJobOptions, type DeliveryJobData } from './delivery-job';
import { DEFAULT_PROJECT_BURST_PER_SECOND, ProjectBurstCounter } from './project-burst-counter';
import { DEFAULT_QUEUE_PREFIX, DELIVERY_QUEUE } from './queue-names';
import { DEFAULT_RETRY_SCHEDULE, parseRetrySchedule } from './retry-schedule';

export class EventValidationError extends Error {
  constructor(readonly errors: string[]) {
    super(`Invalid event: ${errors.join('; ')}`);
    this.name = 'EventValidationError';
  }
}

/** Redis could not take the event: the caller must retry (the API answers 503). */
export class QueueUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`Event queue is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'QueueUnavailableError';
  }
}

export interface EventProducerOptions {
  /** An ioredis instance or connection options. Producers should fail fast, so disable the offline queue. */
  connection: ConnectionOptions;
  prefix?: string;
  /** Give up on Redis after this long (BullMQ otherwise waits for a connection forever). Default 3 s. */
  enqueueTimeoutMs?: number;
  /** Retry delays in ms for the events this producer enqueues (default DEFAULT_RETRY_SCHEDULE). */
  retrySchedule?: number[];
  /** A project's events beyond this many per second go to the bulk lane (default DEFAULT_PROJECT_BURST_PER_SECOND). */
  projectBurstPerSecond?: number;
}

export interface Enqueued {
  eventId: string;
  lane: 'normal' | 'bulk';
}

export interface EnqueueOptions {
  /** A caller-chosen id (e.g. an Idempotency-Key): enqueueing the same id twice keeps one event. */
  eventId?: string;
}

/**
 * The typed producer used by the API and by upstream pipelines that write to BullMQ directly.
 * Events are validated before they are enqueued, so a bad event fails at its source, loudly.
 */
export class EventProducer {
  readonly queue: Queue<DeliveryJobData>;
  private readonly enqueueTimeoutMs: number;
  private readonly retrySchedule: number[];
  private readonly bursts: ProjectBurstCounter;

  constructor(options: EventProducerOptions) {
    this.retrySchedule = options.retrySchedule ?? parseRetrySchedule(DEFAULT_RETRY_SCHEDULE);
    this.enqueueTimeoutMs = options.enqueueTimeoutMs ?? 3_000;
    const prefix = options.prefix ?? DEFAULT_QUEUE_PREFIX;
    this.queue = new Queue<DeliveryJobData>(DELIVERY_QUEUE, { connection: options.connection, prefix });
    this.bursts = new ProjectBurstCounter(
      () => this.queue.client,
      prefix,
      options.projectBurstPerSecond ?? DEFAULT_PROJECT_BURST_PER_SECOND,
    );
  }

  /**
   * Enqueue a FALL_DETECTION or VITAL_THRESHOLD event. Throws EventValidationError when it is invalid.
   * `lane`: 'bulk' when the event was beyond its project's per-second share (see ProjectBurstCounter).
   */
  async enqueue(event: DeviceEvent, options: EnqueueOptions = {}): Promise<Enqueued> {
    const result = validateInternalEvent(event);
    if (!result.valid) throw new EventValidationError(result.errors);
    if (result.value.webhookType === 'TEST') {
      throw new EventValidationError(['webhookType TEST is only sent by the test endpoint']);
    }
    return this.add(result.value, options.eventId, { countsAgainstShare: true });
  }

  /** Enqueue the TEST event `{"test":"test"}` for a project (interactive: always the normal lane). */
  async enqueueTest(projectId: string): Promise<Enqueued> {
    return this.add({ projectId, userUUID: 'test', webhookType: 'TEST', data: { test: 'test' } });
  }

  /**
   * Send an earlier event again, as a new job with the same eventId (receivers see the same X-Event-Id).
   * Returns null when the event's payload is no longer retained in the queue.
   */
  async redeliver(eventId: string): Promise<{ eventId: string; redeliveryId: string } | null> {
    const original = await this.queue.getJob(eventId);
    if (!original) return null;
    const redeliveryId = `${eventId}-redelivery-${randomUUID().slice(0, 8)}`;
    const job: DeliveryJobData = { ...original.data, redelivery: true, enqueuedAt: Date.now() };
    const options = { ...deliveryJobOptions(eventId, job.webhookType, this.retrySchedule), jobId: redeliveryId };
    await this.withTimeout(this.queue.add(job.webhookType, job, options));
    return { eventId, redeliveryId };
  }

  async close(): Promise<void> {
    await this.queue.close();
  }

  /** `countsAgainstShare`: the event counts against its project's per-second share; beyond it, it goes to the bulk lane. */
  private async add(event: InternalEvent, eventId: string = randomUUID(), { countsAgainstShare = false } = {}): Promise<Enqueued> {
    const job: DeliveryJobData = { ...event, eventId, enqueuedAt: Date.now() };
    return this.withTimeout(
      (async () => {
        // Counted in the second of its enqueuedAt, so the lane follows from the job's own data.
        const overShare = countsAgainstShare && (await this.bursts.overShare(event.projectId, job.enqueuedAt));
        const lane = overShare ? 'bulk' : 'normal';
        await this.queue.add(event.webhookType, job, deliveryJobOptions(eventId, event.webhookType, this.retrySchedule, lane));
        return { eventId, lane };
      })(),
    );
  }

  /** BullMQ waits for Redis forever; a producer gives up after enqueueTimeoutMs and says the queue is down. */
  private async withTimeout<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from Redis in ${this.enqueueTimeoutMs} ms`)), this.enqueueTimeoutMs);
    });
    try {
      return await Promise.race([work, timeout]);
    } catch (error) {
      throw new QueueUnavailableError(error);
    } finally {
      clearTimeout(timer);
    }
  }
}
