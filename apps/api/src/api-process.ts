import type { Server } from 'node:http';
import type { Express } from 'express';
import {
  EventProducer,
  createLogger,
  createMongoConnection,
  createRedisConnection,
  indexBootstrap,
  announceRegistrationChange,
  createMetricsRegistry,
  registerQueueDepth,
  startMetricsServer,
  settleWithin,
  requireAuthConfig,
  requireSecretCipher,
  type Config,
} from '@novee/shared';
import { createApp } from './app';
import { TestEventSender } from './events/test-event-sender';

export interface RunningApi {
  app: Express;
  server: Server;
  url: string;
  metricsUrl: string;
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
    urlPolicy: { allowHttpLoopback: config.allowHttpLoopbackWebhooks },
    logger,
    metrics,
    bullBoardReadOnly: config.bullBoardReadOnly,
    // If Redis is down the change still stands in MongoDB; workers pick it up when their cache entry expires.
    announceRegistrationChange: (projectId) =>
      announceRegistrationChange(redis, config.queuePrefix, projectId).catch((error: Error) => {
        logger.warn('could not announce registration change; workers will see it within 30 s', { projectId, error: error.message });
      }),
  });
  const metricsServer = await startMetricsServer(metrics, config.metricsHost, config.metricsPort);
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(config.port, config.host, () => resolve(listening));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  logger.info('api listening', { url, metricsUrl: metricsServer.url, allowHttpLoopbackWebhooks: config.allowHttpLoopbackWebhooks });

  return {
    app,
    server,
    url,
    metricsUrl: metricsServer.url,
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
