import { Worker } from 'bullmq';
import {
  DELIVERY_QUEUE,
  createLogger,
  createMongoConnection,
  createRedisConnection,
  ensureIndexes,
  createMetricsRegistry,
  startMetricsServer,
  requireSecretCipher,
  retryDelay,
  scheduleSpanMs,
  settleWithin,
  type Config,
  type DeliveryJobData,
  type DeliveryJobResult,
} from '@novee/shared';
import { DeliveryLog } from './delivery/delivery-log';
import { HttpSender } from './delivery/http-sender';
import { createDeliveryProcessor } from './delivery/process-delivery-job';
import { DeliveryMetrics } from './metrics/delivery-metrics';
import { EndpointGuard } from './isolation/endpoint-guard';
import { EndpointState } from './isolation/endpoint-state';
import { RegistrationCache } from './registrations/registration-cache';
import { RegistrationLookup } from './registrations/registration-lookup';

/** Safety net only: changes are announced and applied at once (see RegistrationCache). */
const REGISTRATION_CACHE_TTL_MS = 30_000;

export interface RunningWorker {
  worker: Worker<DeliveryJobData, DeliveryJobResult>;
  metricsUrl: string;
  /** Stop taking jobs and let in-flight deliveries finish (up to shutdownTimeoutMs, then release them). */
  stop(): Promise<void>;
}

/** One worker process: many concurrent deliveries, so one slow receiver holds one slot, not the process. */
export async function startWorker(config: Config): Promise<RunningWorker> {
  const logger = createLogger('worker', config.logLevel);
  const cipher = requireSecretCipher(config);
  const mongo = createMongoConnection(config.mongodbUrl, config.mongodbDb);
  const redis = createRedisConnection(config.redisUrl, 'worker', logger);
  ensureIndexes(mongo.db, { deliveryRetentionDays: config.deliveryRetentionDays }).catch((error: unknown) =>
    logger.warn('MongoDB indexes not ensured (MongoDB down?)', { error }),
  );

  const sender = new HttpSender(config.deliveryTimeoutMs, config.allowHttpLoopbackWebhooks);
  // Its own connection: every delivery's admit/finish scripts, sent in one write per event-loop turn.
  // (Not BullMQ's: auto-pipelining is known to break its job handling.)
  const isolationRedis = createRedisConnection(config.redisUrl, 'worker', logger, { enableAutoPipelining: true });
  const guard = new EndpointGuard(
    new EndpointState(isolationRedis, config.queuePrefix, {
      maxInFlight: config.endpointMaxInFlight,
      leaseMs: config.deliveryTimeoutMs + 10_000,
      failureThreshold: config.circuitFailureThreshold,
      cooldownMs: config.circuitCooldownMs,
      maxCooldownMs: config.circuitMaxCooldownMs,
    }),
    {
      // One endpoint may fill this worker but for twice its cap: those slots keep fetching, and since a
      // project's burst waits in the bulk lane, other projects' events are what they fetch first.
      maxWaiters: Math.max(1, config.workerConcurrency - 2 * config.endpointMaxInFlight),
      deliveryTimeoutMs: config.deliveryTimeoutMs,
    },
  );
  const deliveryLog = new DeliveryLog(mongo.db, logger);
  const registrations = new RegistrationCache(new RegistrationLookup(mongo.db, cipher), REGISTRATION_CACHE_TTL_MS);
  const subscriber = createRedisConnection(config.redisUrl, 'worker', logger);
  await registrations.subscribe(subscriber, config.queuePrefix, logger);
  const registry = createMetricsRegistry('worker');
  const metrics = new DeliveryMetrics(registry);
  const processor = createDeliveryProcessor({
    metrics,
    registrations,
    sender,
    guard,
    maxDeferralMs: scheduleSpanMs(config.retrySchedule) + 60_000,
    log: deliveryLog,
    logger,
  });
  const worker = new Worker<DeliveryJobData, DeliveryJobResult>(DELIVERY_QUEUE, processor, {
    connection: redis,
    prefix: config.queuePrefix,
    concurrency: config.workerConcurrency,
    // A crashed worker's jobs are found by the others' stalled-job check and run again (at-least-once).
    // Several stalls are tolerated before BullMQ gives up on a job, so repeated crashes do not drop events.
    lockDuration: config.workerLockDurationMs,
    stalledInterval: config.workerStalledIntervalMs,
    maxStalledCount: 5,
    // Where a delivery is retried: BullMQ re-runs a failed job after the schedule's delay (with jitter).
    settings: { backoffStrategy: (attemptsMade: number) => retryDelay(config.retrySchedule, attemptsMade) },
  });
  worker.on('error', (error) => logger.error('worker error', { error }));
  worker.on('failed', (job, error) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1);
    logger.log(final ? 'error' : 'warn', final ? 'delivery failed permanently' : 'delivery attempt failed', {
      eventId: job.data.eventId,
      projectId: job.data.projectId,
      webhookType: job.data.webhookType,
      attempt: job.attemptsMade,
      error: error.message,
    });
  });
  await worker.waitUntilReady();
  const metricsServer = await startMetricsServer(registry, config.metricsHost, config.metricsPort);
  logger.info('worker started', { concurrency: config.workerConcurrency, queue: DELIVERY_QUEUE, metricsUrl: metricsServer.url });

  return {
    worker,
    metricsUrl: metricsServer.url,
    async stop() {
      await metricsServer.stop();
      if ((await settleWithin(worker.close(), config.shutdownTimeoutMs)) === 'timed out') {
        // Their locks lapse and BullMQ's stalled-job check hands them to another worker: nothing is lost.
        logger.warn('in-flight deliveries did not finish in time; releasing them to other workers');
        await settleWithin(worker.close(true), 2_000);
      }
      await deliveryLog.stop();
      sender.close();
      redis.disconnect();
      isolationRedis.disconnect();
      subscriber.disconnect();
      await mongo.client.close();
    },
  };
}
