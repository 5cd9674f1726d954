import { UnrecoverableError, type Job } from 'bullmq';
import { validateEventData, type DeliveryJobData, type DeliveryJobResult, type Logger } from '@novee/shared';
import type { RegistrationLookup } from '../registrations/registration-lookup';
import { buildDeliveryRequest } from './build-delivery-request';
import type { DeliveryLog } from './delivery-log';
import { decideDelivery } from './delivery-rules';
import type { HttpSender } from './http-sender';

/** Thrown for a failed attempt so BullMQ records it and, where attempts remain, retries it. */
export class DeliveryFailedError extends Error {
  override name = 'DeliveryFailedError';
}

export interface DeliveryDeps {
  registrations: RegistrationLookup;
  sender: HttpSender;
  log: DeliveryLog;
  logger: Logger;
}

/** One job = one attempt to deliver one event to its project's webhook. */
export function createDeliveryProcessor(deps: DeliveryDeps) {
  return async (job: Job<DeliveryJobData>): Promise<DeliveryJobResult> => {
    const { eventId, projectId, webhookType, data } = job.data;
    const attempt = job.attemptsMade + 1;
    const final = attempt >= (job.opts.attempts ?? 1);
    const base = { eventId, projectId, webhookType, attempt };

    // Upstream validated it, but a pipeline writing to Redis directly may not have: fail loudly, never silently.
    const dataCheck = validateEventData(webhookType, data);
    if (!dataCheck.valid) {
      const error = `Invalid ${webhookType} data: ${dataCheck.errors.join('; ')}`;
      await deps.log.record({ ...base, status: 'rejected', error });
      throw new UnrecoverableError(error);
    }

    const decision = decideDelivery(projectId, webhookType, await deps.registrations.find(projectId));
    if (decision.action === 'skip') {
      deps.logger.debug('no webhook registered; event skipped', { eventId, projectId, webhookType });
      return { outcome: 'skipped' };
    }
    if (decision.action === 'reject') {
      await deps.log.record({ ...base, status: 'rejected', error: decision.reason });
      throw new UnrecoverableError(decision.reason);
    }

    const { url, secret } = decision.registration;
    const request = buildDeliveryRequest({ url, secret, eventId, webhookType, data });
    const result = await deps.sender.send(request);
    const urlHost = new URL(url).host;
    if (result.ok) {
      await deps.log.record({ ...base, status: 'delivered', urlHost, statusCode: result.statusCode, durationMs: result.durationMs });
      return { outcome: 'delivered', statusCode: result.statusCode, durationMs: result.durationMs };
    }
    await deps.log.record({
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
