import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import {
  GONE_REASON,
  PRIORITY_BY_TYPE,
  bulkPriority,
  signingSecrets,
  validateEventData,
  type DeliveryJobData,
  type DeliveryJobResult,
  type Logger,
} from '@novee/shared';
import type { EndpointHealth } from '../health/endpoint-health';
import { limitSignal } from '../isolation/concurrency-limit';
import type { EndpointGuard } from '../isolation/endpoint-guard';
import type { DeliveryMetrics } from '../metrics/delivery-metrics';
import { RegistrationUnavailableError, type RegistrationCache } from '../registrations/registration-cache';
import type { DeliveryLog } from '../records/delivery-log';
import { buildDeliveryRequest } from './build-delivery-request';
import { decideDelivery } from './delivery-rules';
import type { HttpSender, SendResult } from './http-sender';

/** Thrown for a failed attempt so BullMQ records it and, where attempts remain, retries it. */
export class DeliveryFailedError extends Error {
  override name = 'DeliveryFailedError';

  constructor(
    message: string,
    /** The receiver asked us to wait this long (429/503 with Retry-After, capped): the next retry comes no sooner. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface DeliveryDeps {
  registrations: Pick<RegistrationCache, 'find'>;
  sender: HttpSender;
  guard: EndpointGuard;
  /** failingSince, disabling, recovery: fed every attempt's outcome. */
  health: Pick<EndpointHealth, 'observe' | 'disable'>;
  log: DeliveryLog;
  metrics: DeliveryMetrics;
  logger: Logger;
  /**
   * The retry schedule's longest span (with its jitter) since enqueue. An event older than this is past its
   * window: its attempts are made even while the circuit is open, so its last attempt is never skipped.
   */
  retryWindowMs: number;
  /** A receiver's Retry-After pauses its endpoint at most this long (RETRY_AFTER_MAX_MS). */
  retryAfterMaxMs: number;
}

/** How long a job waits for MongoDB before it looks again: doubling per wait, up to 30 s. */
const dependencyRetryMs = (waits: number) => Math.min(1_000 * 2 ** Math.min(waits, 5), 30_000) * (0.75 + Math.random() / 2);

/** One job = one attempt to deliver one event to its project's webhook. */
export function createDeliveryProcessor(deps: DeliveryDeps) {
  return async (job: Job<DeliveryJobData>, token?: string): Promise<DeliveryJobResult> => {
    const { eventId, projectId, webhookType, data } = job.data;
    const attempt = job.attemptsMade + 1;
    const final = attempt >= (job.opts.attempts ?? 1);
    // A crash can make one attempt of the schedule run twice: the run cut short (recorded as interrupted) and the
    // re-run after the stall, told apart by `run`, so each has exactly one record.
    const run = job.stalledCounter > 0 ? { run: job.stalledCounter } : {};
    const base = {
      eventId,
      projectId,
      webhookType,
      attempt,
      ...run,
      ...(job.data.redelivery && { redelivery: true as const }),
      ...(job.data.recovery && { recovery: job.data.recovery }),
    };
    const jobId = job.id!;
    const record = async (attemptRecord: Parameters<DeliveryLog['record']>[0], clearsStartedMark?: boolean) => {
      deps.metrics.observeAttempt(attemptRecord, job.data.enqueuedAt);
      await deps.log.record(attemptRecord, clearsStartedMark ? jobId : undefined);
    };
    if (job.stalledCounter > 0) {
      // Taken over from a worker that died: record the attempt it had under way and free that attempt's slot now,
      // not when its lease lapses, so the endpoint is not held up by a delivery that no longer exists.
      const slot = await deps.log.takeOver(jobId);
      if (slot) await deps.guard.release(slot);
    }
    // Starts that neither succeeded nor failed were waits (BullMQ counts every move to active).
    const waits = Math.max(0, job.attemptsStarted - job.attemptsMade - 1);
    /** Wait elsewhere (BullMQ's delayed set) instead of holding a worker slot; no attempt is used up. */
    const waitUntil = async (retryAt: number, reason: string): Promise<never> => {
      await job.moveToDelayed(Math.round(retryAt), token);
      throw new DelayedError(reason);
    };

    // Upstream validated it, but a pipeline writing to Redis directly may not have: fail loudly, never silently.
    const dataCheck = validateEventData(webhookType, data);
    if (!dataCheck.valid) {
      const error = `Invalid ${webhookType} data: ${dataCheck.errors.join('; ')}`;
      await record({ ...base, status: 'rejected', error });
      throw new UnrecoverableError(error);
    }

    let registration: Awaited<ReturnType<RegistrationCache['find']>>;
    try {
      registration = await deps.registrations.find(projectId);
    } catch (error) {
      if (!(error instanceof RegistrationUnavailableError)) throw error;
      // MongoDB is down: that is not the receiver's failure, so it must not use up the event's attempts.
      deps.metrics.deferred('dependency unavailable');
      deps.logger.warn('registration unavailable; the event waits', { eventId, projectId, error: error.message });
      return waitUntil(Date.now() + dependencyRetryMs(waits), 'dependency unavailable');
    }
    const decision = decideDelivery(projectId, webhookType, registration);
    if (decision.action === 'skip') {
      deps.logger.debug('no webhook registered; event skipped', { eventId, projectId, webhookType });
      deps.metrics.skipped(webhookType);
      return { outcome: 'skipped' };
    }
    if (decision.action === 'reject') {
      await record({ ...base, status: 'rejected', error: decision.reason });
      throw new UnrecoverableError(decision.reason);
    }
    if (decision.action === 'fail') {
      // Final, and the job stays in the failed set, so the event can be recovered once the endpoint is enabled.
      await record({ ...base, status: 'failed', error: decision.reason, final: true });
      throw new UnrecoverableError(decision.reason);
    }

    const { url } = decision.registration;
    const urlHost = new URL(url).host;
    // Signed before taking a slot, so the slot covers only the HTTP exchange (the timestamp is still fresh).
    const secrets = signingSecrets(decision.registration);
    const request = buildDeliveryRequest({ url, secrets, eventId, webhookType, data });
    const pastWindow = Date.now() - job.data.enqueuedAt > deps.retryWindowMs;
    // A fall (or a test) may go beyond the endpoint's limit by a little and waits ahead of vitals (see EndpointGuard).
    const urgent = PRIORITY_BY_TYPE[webhookType] === PRIORITY_BY_TYPE.FALL_DETECTION;
    const admission = await deps.guard.admit(url, waits, { ignoreCircuit: pastWindow, urgent });
    if (!admission.admitted) {
      // It comes back in the bulk lane, so a stuck receiver's backlog never returns ahead of other projects' events.
      deps.metrics.deferred(admission.reason);
      const bulk = bulkPriority(webhookType);
      if (job.priority !== bulk) await job.changePriority({ priority: bulk });
      // A receiver's pause never holds an event past its retry window (then it goes, as past an open circuit).
      const windowEnd = job.data.enqueuedAt + deps.retryWindowMs + 1;
      const retryAt = admission.reason === 'receiver asked to wait' ? Math.min(admission.retryAt, windowEnd) : admission.retryAt;
      return waitUntil(retryAt, admission.reason);
    }

    let result: SendResult;
    try {
      await deps.log.started(jobId, { ...base, urlHost }, admission.slot);
      result = await deps.sender.send(request);
    } catch (error) {
      // send never throws; if it (or the started mark) somehow did, the slot is freed and the attempt counts as failed.
      await admission.finish(false);
      throw error;
    }
    // A receiver asking us to wait (429/503 with Retry-After) pauses its endpoint and is not a circuit failure.
    const pauseMs = !result.ok && result.retryAfterMs !== undefined ? Math.min(result.retryAfterMs, deps.retryAfterMaxMs) : undefined;
    // 410 Gone (Standard Webhooks): the receiver says stop; this event is not retried.
    const gone = !result.ok && result.statusCode === 410;
    // Three independent writes, sent together (one pipelined round trip, not three): free the slot and feed the
    // breaker and the endpoint's adaptive limit (2xx and its duration, or an overload: timeout, 5xx, 429...);
    // the endpoint's health; the attempt's record.
    const [circuit] = await Promise.all([
      admission.finish(result.ok, pauseMs, { signal: limitSignal(result), durationMs: result.durationMs }),
      gone
        ? deps.health.disable(projectId, GONE_REASON, urlHost)
        : deps.health.observe(projectId, decision.registration, result.ok, urlHost),
      record(
        result.ok
          ? { ...base, status: 'delivered', urlHost, statusCode: result.statusCode, durationMs: result.durationMs }
          : {
              ...base,
              status: 'failed',
              urlHost,
              statusCode: result.statusCode,
              error: result.error,
              durationMs: result.durationMs,
              final: final || gone,
            },
        true,
      ),
    ]);
    if (circuit?.change === 'opened') {
      deps.logger.warn('circuit opened for endpoint', { eventId, projectId, urlHost, until: new Date(circuit.openUntil).toISOString() });
    } else if (circuit?.change === 'closed') {
      deps.logger.info('circuit closed for endpoint: it answers again', { eventId, projectId, urlHost });
    }
    if (pauseMs !== undefined) {
      deps.logger.info('receiver asked to wait; endpoint paused', { eventId, projectId, urlHost, statusCode: result.statusCode, pauseMs });
    }
    if (result.ok) return { outcome: 'delivered', statusCode: result.statusCode, durationMs: result.durationMs };
    if (gone) throw new UnrecoverableError(result.error);
    throw new DeliveryFailedError(result.error, pauseMs);
  };
}
