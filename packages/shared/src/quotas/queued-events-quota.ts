import type { RedisClient } from 'bullmq';
import { runPipelined, scriptedClient } from '../queue/scripted-client';
import type { WebhookType } from '../events/event-types';
import { scheduleSpanMs } from '../queue/retry-schedule';

/** Default cap on a project's queued events (waiting, delayed for a retry, or in flight). */
export const DEFAULT_PROJECT_MAX_QUEUED_EVENTS = 10_000;
/** FALL_DETECTION's own, higher cap: when a project is at its cap, falls are still taken, and refused last. */
export const DEFAULT_PROJECT_MAX_QUEUED_FALL_EVENTS = 20_000;

export interface QueuedEventsLimits {
  /** Events other than FALL_DETECTION are refused once the project has this many queued. */
  maxQueued: number;
  /** FALL_DETECTION events are refused once the project has this many queued (of any type). */
  maxQueuedFall: number;
  /**
   * A job still counted after this long is forgotten (a worker that died between finishing a job and saying
   * so must not shrink the project's quota forever). Longer than any job can legitimately stay queued.
   */
  forgetAfterMs: number;
}

/**
 * How long a job can legitimately stay queued: longer than its retry window (retryWindowMs: the schedule with
 * the most jitter, +20%), plus an hour for the waits an endpoint imposes (busy, circuit open, Retry-After).
 */
export const forgetQueuedAfterMs = (retrySchedule: number[]) => Math.ceil(scheduleSpanMs(retrySchedule) * 1.25) + 3_600_000;

/** The project has too many events queued: the API answers 429, a pipeline backs off and retries. */
export class QueueQuotaExceededError extends Error {
  constructor(
    readonly projectId: string,
    readonly webhookType: WebhookType,
    readonly queued: number,
    readonly limit: number,
  ) {
    super(
      `Project ${projectId} has ${queued} events queued, the limit for ${webhookType} events is ${limit}: ` +
        'its webhook is not keeping up (check the receiver and the delivery log); retry later',
    );
    this.name = 'QueueQuotaExceededError';
  }
}

/**
 * Count this job in the project's set of queued jobs unless the project is at `limit`. Forgets entries older
 * than the cut-off first. Answers {1, count} when counted (or already counted: the same event id enqueued
 * again is one event), {0, count} when refused.
 */
const RESERVE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[4])
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then return {1, redis.call('ZCARD', KEYS[1])} end
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[3]) then return {0, count} end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {1, count + 1}
`;

const RELEASE = `return redis.call('ZREM', KEYS[1], ARGV[1])`;

/** Redis key of a project's queued jobs (a sorted set of job ids scored by enqueue time). */
export const queuedEventsKey = (prefix: string, projectId: string) => `${prefix}:project:${projectId}:queued`;

/**
 * How many events a project has queued, shared by every API instance, pipeline and worker through Redis, so
 * one project whose receiver fails cannot fill Redis (which runs `noeviction`) and stop ingestion for all.
 * "Queued" = enqueued and not yet finished for good: the producer adds a job id when it enqueues, the worker
 * removes it when the job completes or fails for the last time. A set of ids rather than a counter, so that
 * enqueueing the same event twice, or removing it twice, cannot make the count drift.
 */
export class QueuedEventsQuota {
  private readonly client: () => Promise<RedisClient>;

  constructor(
    redis: () => Promise<RedisClient>,
    private readonly prefix: string,
    private readonly limits: QueuedEventsLimits,
  ) {
    this.client = scriptedClient(redis, {
      noveeReserveQueued: { numberOfKeys: 1, lua: RESERVE },
      noveeReleaseQueued: { numberOfKeys: 1, lua: RELEASE },
    });
  }

  /** Count the job against its project, or throw QueueQuotaExceededError (nothing is counted then). */
  async reserve(projectId: string, jobId: string, webhookType: WebhookType, now = Date.now()): Promise<void> {
    const limit = webhookType === 'FALL_DETECTION' ? this.limits.maxQueuedFall : this.limits.maxQueued;
    const args = [queuedEventsKey(this.prefix, projectId), now, jobId, limit, now - this.limits.forgetAfterMs, this.limits.forgetAfterMs];
    const [admitted, queued] = (await (await this.client()).runCommand('noveeReserveQueued', args)) as [number, number];
    if (!admitted) throw new QueueQuotaExceededError(projectId, webhookType, queued, limit);
  }

  /**
   * reserve for many jobs in one round trip (a batch), in order (so, at the cap, the earlier ones are taken):
   * for each, nothing when counted, else its QueueQuotaExceededError (or the error Redis gave for it alone).
   * Rejects when Redis could not be asked at all.
   */
  async reserveMany(
    jobs: Array<{ projectId: string; jobId: string; webhookType: WebhookType }>,
    now = Date.now(),
  ): Promise<Array<Error | undefined>> {
    const limitOf = (type: WebhookType) => (type === 'FALL_DETECTION' ? this.limits.maxQueuedFall : this.limits.maxQueued);
    const argLists = jobs.map(({ projectId, jobId, webhookType }) => [
      queuedEventsKey(this.prefix, projectId),
      now,
      jobId,
      limitOf(webhookType),
      now - this.limits.forgetAfterMs,
      this.limits.forgetAfterMs,
    ]);
    const replies = await runPipelined(await this.client(), 'noveeReserveQueued', argLists);
    return replies.map((reply, i) => {
      if (!reply.ok) return reply.error;
      const [admitted, queued] = reply.value as [number, number];
      const { projectId, webhookType } = jobs[i]!;
      return admitted ? undefined : new QueueQuotaExceededError(projectId, webhookType, queued, limitOf(webhookType));
    });
  }

  /** The job finished for good (or was never enqueued): it no longer counts. */
  async release(projectId: string, jobId: string): Promise<void> {
    await (await this.client()).runCommand('noveeReleaseQueued', [queuedEventsKey(this.prefix, projectId), jobId]);
  }

  /** release for many jobs in one round trip (jobs of a batch known not to be enqueued). */
  async releaseMany(jobs: Array<{ projectId: string; jobId: string }>): Promise<void> {
    const argLists = jobs.map(({ projectId, jobId }) => [queuedEventsKey(this.prefix, projectId), jobId]);
    await runPipelined(await this.client(), 'noveeReleaseQueued', argLists);
  }

  /** How many jobs the project has queued now (for tests and operators). */
  async queued(projectId: string): Promise<number> {
    return (await this.client()).zcard(queuedEventsKey(this.prefix, projectId));
  }
}
