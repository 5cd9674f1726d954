import type { JobsOptions } from 'bullmq';
import type { InternalEvent, WebhookType } from '../events/event-types';
import { attemptsFor } from './retry-schedule';

/**
 * The BullMQ job payload: the internal event plus the id that identifies it on every attempt
 * (the job id is the same eventId, so adding the same event id twice keeps one job; Idempotency-Keys are
 * mapped to event ids by packages/shared/src/idempotency, which outlives the job).
 */
export type DeliveryJobData = InternalEvent & {
  eventId: string;
  /** Unix ms when the event was accepted, for enqueue-to-delivery latency. */
  enqueuedAt: number;
  /** Set on a job that re-sends an earlier event on request (same eventId, new job). */
  redelivery?: true;
  /** Set on a job that re-sends a failed event for a bulk recovery: the recovery's id. */
  recovery?: string;
};

/** What the worker returns for a finished job (stored by BullMQ as the job's return value). */
export interface DeliveryJobResult {
  outcome: 'delivered' | 'skipped';
  statusCode?: number;
  durationMs?: number;
}

/** Lower number = served first. A fall is a person on the floor, so it jumps ahead of vitals. */
export const PRIORITY_BY_TYPE: Record<WebhookType, number> = {
  FALL_DETECTION: 1,
  TEST: 1,
  VITAL_THRESHOLD: 2,
};

/**
 * The bulk lane: the same order of types, behind every event of the normal lane. Two kinds of job go there,
 * so that neither can hold up other projects' deliveries in the one shared queue: a project's events beyond
 * its per-second share (see ProjectBurstCounter), and a job its endpoint turned away (busy, stuck or circuit
 * open), which may come back in bulk.
 */
export const bulkPriority = (type: WebhookType): number => PRIORITY_BY_TYPE[type] + 2;

const DAY_SECONDS = 24 * 60 * 60;

/** The worker's backoff strategy of this name reads the retry schedule (see retry-schedule.ts). */
export const RETRY_BACKOFF_TYPE = 'retry-schedule';

/**
 * Job options for one event: retried on the schedule (TEST is interactive: one attempt), finished jobs kept
 * briefly for inspection, failures for a week.
 */
export function deliveryJobOptions(
  eventId: string,
  webhookType: WebhookType,
  retrySchedule: number[],
  lane: 'normal' | 'bulk' = 'normal',
): JobsOptions {
  return {
    jobId: eventId,
    priority: lane === 'bulk' ? bulkPriority(webhookType) : PRIORITY_BY_TYPE[webhookType],
    attempts: webhookType === 'TEST' ? 1 : attemptsFor(retrySchedule),
    backoff: { type: RETRY_BACKOFF_TYPE },
    // By age only: a count cap would cut redelivery's promised 24 h short under load (README: capacity).
    removeOnComplete: { age: DAY_SECONDS },
    removeOnFail: { age: 7 * DAY_SECONDS },
  };
}
