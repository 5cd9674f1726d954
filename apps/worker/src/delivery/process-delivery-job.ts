import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { bulkPriority, validateEventData, type DeliveryJobData, type DeliveryJobResult, type Logger } from '@novee/shared';
import type { EndpointGuard } from '../isolation/endpoint-guard';
import type { DeliveryMetrics } from '../metrics/delivery-metrics';
import type { RegistrationCache } from '../registrations/registration-cache';
import { buildDeliveryRequest } from './build-delivery-request';
import type { DeliveryLog } from './delivery-log';
import { decideDelivery } from './delivery-rules';
import type { HttpSender, SendResult } from './http-sender';

/** Thrown for a failed attempt so BullMQ records it and, where attempts remain, retries it. */
export class DeliveryFailedError extends Error {
  override name = 'DeliveryFailedError';
}

export interface DeliveryDeps {
  registrations: Pick<RegistrationCache, 'find'>;
  sender: HttpSender;
  guard: EndpointGuard;
  log: DeliveryLog;
  metrics: DeliveryMetrics;
  logger: Logger;
  /** An event still waiting for its endpoint after this long (since enqueue) fails for good. */
  maxDeferralMs: number;
}

/** One job = one attempt to deliver one event to its project's webhook. */
export function createDeliveryProcessor(deps: DeliveryDeps) {
  return async (job: Job<DeliveryJobData>, token?: string): Promise<DeliveryJobResult> => {
    const { eventId, projectId, webhookType, data } = job.data;
    const attempt = job.attemptsMade + 1;
    const final = attempt >= (job.opts.attempts ?? 1);
    const base = { eventId, projectId, webhookType, attempt, ...(job.data.redelivery && { redelivery: true as const }) };
    const record = async (attemptRecord: Parameters<DeliveryLog['record']>[0]) => {
      deps.metrics.observeAttempt(attemptRecord, job.data.enqueuedAt);
      await deps.log.record(attemptRecord);
    };

    // Upstream validated it, but a pipeline writing to Redis directly may not have: fail loudly, never silently.
    const dataCheck = validateEventData(webhookType, data);
    if (!dataCheck.valid) {
      const error = `Invalid ${webhookType} data: ${dataCheck.errors.join('; ')}`;
      await record({ ...base, status: 'rejected', error });
      throw new UnrecoverableError(error);
    }

    const decision = decideDelivery(projectId, webhookType, await deps.registrations.find(projectId));
    if (decision.action === 'skip') {
      deps.logger.debug('no webhook registered; event skipped', { eventId, projectId, webhookType });
      deps.metrics.skipped(webhookType);
      return { outcome: 'skipped' };
    }
    if (decision.action === 'reject') {
      await record({ ...base, status: 'rejected', error: decision.reason });
      throw new UnrecoverableError(decision.reason);
    }

    const { url, secret } = decision.registration;
    const urlHost = new URL(url).host;
    // Signed before taking a slot, so the slot covers only the HTTP exchange (the timestamp is still fresh).
    const request = buildDeliveryRequest({ url, secret, eventId, webhookType, data });
    // Starts that neither succeeded nor failed were deferrals (BullMQ counts every move to active).
    const deferrals = Math.max(0, job.attemptsStarted - job.attemptsMade - 1);
    const admission = await deps.guard.admit(url, deferrals);
    if (!admission.admitted) {
      if (Date.now() - job.data.enqueuedAt > deps.maxDeferralMs) {
        const error = `gave up: receiver unavailable (${admission.reason}) for the whole retry window`;
        await record({ ...base, status: 'failed', urlHost, error, final: true });
        throw new UnrecoverableError(error);
      }
      // Wait elsewhere (BullMQ's delayed set) instead of holding a worker slot; no attempt is used up. It comes
      // back in the bulk lane, so a stuck receiver's backlog never returns ahead of other projects' events.
      deps.metrics.deferred(admission.reason);
      const bulk = bulkPriority(webhookType);
      if (job.priority !== bulk) await job.changePriority({ priority: bulk });
      await job.moveToDelayed(admission.retryAt, token);
      throw new DelayedError(admission.reason);
    }

    let result: SendResult | undefined;
    let openedUntil: number | null;
    try {
      result = await deps.sender.send(request);
    } finally {
      // Frees the slot (send never throws; if it somehow did, the attempt counts as failed).
      openedUntil = await admission.finish(result?.ok === true);
    }
    if (openedUntil) {
      deps.logger.warn('circuit opened for endpoint', { eventId, projectId, urlHost, until: new Date(openedUntil).toISOString() });
    }

    if (result.ok) {
      await record({ ...base, status: 'delivered', urlHost, statusCode: result.statusCode, durationMs: result.durationMs });
      return { outcome: 'delivered', statusCode: result.statusCode, durationMs: result.durationMs };
    }
    await record({
      ...base,
      status: 'failed',
      urlHost,
      statusCode: result.statusCode,
      error: result.error,
      durationMs: result.durationMs,
      final,
    });
    throw new DeliveryFailedError(result.error);
  };
}
