import { createServer, type Server } from 'node:http';
import type { Express } from 'express';
import {
  EventProducer,
  createLogger,
  createMongoConnection,
  createRedisConnection,
  indexBootstrap,
  markRegistrationChanged,
  QueueUnavailableError,
  createMetricsRegistry,
  registerQueueDepth,
  startMetricsServer,
  settleWithin,
  requireAuthConfig,
  requireSecretCipher,
  type Config,
  type Logger,
} from '@novee/shared';
import { createApp } from './app';
import { answerClientErrors } from './http/client-errors';
import { TestEventSender } from './events/test-event-sender';

export interface RunningApi {
  app: Express;
  server: Server;
  url: string;
  metricsUrl: string;
  logger: Logger;
  stop(): Promise<void>;
}

/** Wire the API's dependencies from config and start listening. Used by main.ts and by the tests. */
export async function startApi(config: Config): Promise<RunningApi> {
  const logger = createLogger('api', config.logLevel);
  const auth = requireAuthConfig(config);
  const cipher = requireSecretCipher(config);
  const mongo = createMongoConnection(config.mongodbUrl, config.mongodbDb);
  const redis = createRedisConnection(config.redisUrl, 'producer', logger);

  // Not awaited: the API starts (and reports 503 on /readyz) while MongoDB is down; registrations wait for it.
  const indexesReady = indexBootstrap(mongo.db, { deliveryRetentionDays: config.deliveryRetentionDays });
  indexesReady().catch((error: unknown) => logger.warn('MongoDB indexes not ensured yet; retrying on first write', { error }));

  const producer = new EventProducer({
    connection: redis,
    prefix: config.queuePrefix,
    retrySchedule: config.retrySchedule,
    projectBurstPerSecond: config.projectBurstPerSecond,
    enqueueTimeoutMs: config.enqueueTimeoutMs,
    idempotencyTtlMs: config.idempotencyTtlMs,
    maxQueuedEvents: { maxQueued: config.projectMaxQueuedEvents, maxQueuedFall: config.projectMaxQueuedFallEvents },
  });
  const testEvents = new TestEventSender(producer, mongo.db, config.testEventWaitMs);
  const metrics = createMetricsRegistry('api');
  registerQueueDepth(metrics, producer.queue);

  const app = createApp({
    db: mongo.db,
    indexesReady,
    cipher,
    redis,
    producer,
    testEvents,
    auth,
    urlPolicy: { allowHttpLoopback: config.allowHttpLoopbackWebhooks, allowedPorts: config.webhookAllowedPorts },
    logger,
    metrics,
    bullBoardReadOnly: config.bullBoardReadOnly,
    projectCacheTtlMs: config.projectCacheTtlMs,
    secretRotationGraceMs: config.secretRotationGraceMs,
    // Workers use a cached registration only while its version is unchanged. If the version cannot be changed
    // (Redis down), the change is not confirmed: 503, the client retries (PATCH and DELETE are idempotent).
    security: {
      bullBoardShowJobData: config.bullBoardShowJobData,
      queuePrefix: config.queuePrefix,
      adminSessionTtlMs: config.adminSessionTtlMs,
      rateLimitManagementPerMinute: config.rateLimitManagementPerMinute,
      rateLimitEventsPerSecond: config.rateLimitEventsPerSecond,
    },
    announceRegistrationChange: (projectId) =>
      markRegistrationChanged(redis, config.queuePrefix, projectId).catch((error: Error) => {
        logger.warn('could not mark registration changed', { projectId, error: error.message });
        throw new QueueUnavailableError(error);
      }),
  });
  const metricsServer = await startMetricsServer(metrics, config.metricsHost, config.metricsPort);
  // Slow clients cannot hold connections open: headers, the whole request, and idle keep-alive are all bounded.
  const server = createServer(
    {
      headersTimeout: config.httpHeadersTimeoutMs,
      requestTimeout: config.httpRequestTimeoutMs,
      keepAliveTimeout: config.httpKeepAliveTimeoutMs,
      // How often those timeouts are checked (Node's default, 30 s, would let a slow client overstay by that much).
      connectionsCheckingInterval: Math.min(1_000, config.httpHeadersTimeoutMs),
    },
    app,
  );
  answerClientErrors(server);
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  logger.info('api listening', { url, metricsUrl: metricsServer.url, allowHttpLoopbackWebhooks: config.allowHttpLoopbackWebhooks });

  return {
    app,
    server,
    url,
    metricsUrl: metricsServer.url,
    logger,
    async stop() {
      await metricsServer.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await settleWithin(closed, 5_000);
      server.closeAllConnections();
      await settleWithin(producer.close(), 2_000);
      redis.disconnect();
      await mongo.client.close();
    },
  };
}
