import { Worker } from 'bullmq';
import {
  DELIVERY_QUEUE,
  createLogger,
  createMongoConnection,
  createRedisConnection,
  ensureIndexes,
  forgetQueuedAfterMs,
  QueuedEventsQuota,
  createMetricsRegistry,
  startMetricsServer,
  requireSecretCipher,
  retryDelay,
  retryWindowMs,
  settleWithin,
  type Config,
  type DeliveryJobData,
  type DeliveryJobResult,
} from '@novee/shared';
import { HttpSender } from './delivery/http-sender';
import { DeliveryFailedError, createDeliveryProcessor } from './delivery/process-delivery-job';
import { stretchRetryDelay } from './delivery/retry-after';
import { DeliveryMetrics } from './metrics/delivery-metrics';
import { EndpointHealth } from './health/endpoint-health';
import { FailureStreak } from './health/failure-streak';
import { OperationalNotifier } from './health/operational-notifier';
import { EndpointGuard } from './isolation/endpoint-guard';
import { EndpointState } from './isolation/endpoint-state';
import { AttemptJournal } from './records/attempt-journal';
import { DeliveryLog } from './records/delivery-log';
import { RecordWriter } from './records/record-writer';
import { RegistrationCache } from './registrations/registration-cache';
import { RegistrationLookup } from './registrations/registration-lookup';

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

  const sender = new HttpSender(config.deliveryTimeoutMs, config.allowHttpLoopbackWebhooks, config.webhookAllowedPorts);
  // Its own connection: every delivery's admit/finish scripts, sent in one write per event-loop turn.
  // (Not BullMQ's: auto-pipelining is known to break its job handling.)
  const isolationRedis = createRedisConnection(config.redisUrl, 'worker', logger, { enableAutoPipelining: true });
  const registry = createMetricsRegistry('worker');
  const metrics = new DeliveryMetrics(registry);
  const guard = new EndpointGuard(
    new EndpointState(isolationRedis, config.queuePrefix, {
      maxInFlight: config.endpointMaxInFlight,
      initialInFlight: config.endpointInitialInFlight,
      stuckAfterMs: 250,
      // Outlives any delivery (the timeout bounds the whole exchange) but not by much: a crashed worker's slots
      // come back 2 s after its deliveries would have ended.
      leaseMs: config.deliveryTimeoutMs + 2_000,
      failureThreshold: config.circuitFailureThreshold,
      cooldownMs: config.circuitCooldownMs,
      maxCooldownMs: config.circuitMaxCooldownMs,
      onLimit: (limit) => metrics.observeLimit(limit),
    }),
    {
      // One endpoint's jobs (in flight or waiting) may fill this worker but for a fifth of its slots: those keep
      // fetching, and since a project's burst waits in the bulk lane, other projects' events are what they fetch
      // first. Even an endpoint whose limit grew high and which then hangs leaves them free.
      maxHeld: maxHeldOf(config.workerConcurrency),
      deliveryTimeoutMs: config.deliveryTimeoutMs,
    },
  );
  const journal = new AttemptJournal(isolationRedis, config.queuePrefix);
  const deliveryLog = new DeliveryLog(journal, logger);
  const registrations = new RegistrationCache(new RegistrationLookup(mongo.db, cipher), isolationRedis, config.queuePrefix);
  const retryWindow = retryWindowMs(config.retrySchedule);
  const { operationalWebhookUrl: opsUrl, operationalWebhookSecret: opsSecret } = config;
  const notifier =
    opsUrl && opsSecret
      ? new OperationalNotifier({ url: opsUrl, secret: opsSecret, timeoutMs: config.deliveryTimeoutMs }, logger, registry)
      : undefined;
  const health = new EndpointHealth(
    // A streak is forgotten after twice the disabling time without a failure (an endpoint sent nothing meanwhile).
    new FailureStreak(isolationRedis, config.queuePrefix, Math.max(2 * config.endpointDisableAfterMs, 3_600_000)),
    mongo.db,
    isolationRedis,
    config.queuePrefix,
    { disableAfterMs: config.endpointDisableAfterMs, failingNoticeAfterMs: config.endpointFailingNotifyAfterMs },
    logger,
    registry,
    (transition) => notifier?.notify(transition),
  );
  const processor = createDeliveryProcessor({
    health,
    metrics,
    registrations,
    sender,
    guard,
    retryWindowMs: retryWindow,
    retryAfterMaxMs: config.retryAfterMaxMs,
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
    maxStalledCount: 20,
    // Where a delivery is retried: BullMQ re-runs a failed job after the schedule's delay (with jitter), stretched
    // to a receiver's Retry-After, within the event's retry window.
    settings: {
      backoffStrategy: (attemptsMade: number, _type?: string, error?: Error, job?: { data: DeliveryJobData }) => {
        const scheduled = retryDelay(config.retrySchedule, attemptsMade);
        if (!(error instanceof DeliveryFailedError) || !job) return scheduled;
        return stretchRetryDelay(scheduled, error.retryAfterMs, job.data.enqueuedAt + retryWindow - Date.now());
      },
    },
  });
  // A job finished for good no longer counts against its project's cap on queued events (see quotas/).
  const quota = new QueuedEventsQuota(() => worker.client, config.queuePrefix, {
    maxQueued: config.projectMaxQueuedEvents,
    maxQueuedFall: config.projectMaxQueuedFallEvents,
    forgetAfterMs: forgetQueuedAfterMs(config.retrySchedule),
  });
  const finished = (job: { id?: string; data: DeliveryJobData }): void => {
    quota
      .release(job.data.projectId, job.id!)
      .catch((error: Error) => logger.warn('could not release queued-event quota', { error: error.message }));
  };
  worker.on('completed', finished);
  worker.on('error', (error) => logger.error('worker error', { error }));
  worker.on('failed', (job, error) => {
    if (!job) return;
    // finishedOn: failed for good (its last attempt, or one that is never retried: rejected, 410, disabled).
    const final = Boolean(job.finishedOn);
    if (final) finished(job);
    logger.log(final ? 'error' : 'warn', final ? 'delivery failed permanently' : 'delivery attempt failed', {
      eventId: job.data.eventId,
      projectId: job.data.projectId,
      webhookType: job.data.webhookType,
      attempt: job.attemptsMade,
      error: error.message,
    });
  });
  await worker.waitUntilReady();
  const recordWriter = new RecordWriter(
    createRedisConnection(config.redisUrl, 'worker', logger),
    journal,
    mongo.db,
    config.queuePrefix,
    logger,
    {
      batchSize: 500,
      blockMs: 1_000,
      gatherMs: 50,
      claimIdleMs: 5_000, // a dead worker's unwritten records move soon; a live one's written twice are ignored (same _id)
      // No delivery outlives its timeout, so an older started mark is a dead worker's.
      interruptedAfterMs: config.deliveryTimeoutMs + 5_000,
      maxBacklog: config.recordBacklogMax,
      // Past the bound, stop taking jobs rather than make attempts that could not be recorded; they wait in the queue.
      onBacklog: (full) => {
        if (full) worker.pause(true).catch((error: Error) => logger.error('could not pause the worker', { error: error.message }));
        else worker.resume();
      },
    },
  );
  await recordWriter.start();
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
      await recordWriter.stop();
      if (notifier) await settleWithin(notifier.drain(), 2_000);
      sender.close();
      redis.disconnect();
      isolationRedis.disconnect();
      await mongo.client.close();
    },
  };
}

/** One endpoint may hold at most this many of a worker's jobs at once (in flight or waiting): a fifth stays free. */
const maxHeldOf = (concurrency: number) => Math.max(1, concurrency - Math.ceil(concurrency / 5));
