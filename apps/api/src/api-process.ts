import type { Server } from 'node:http';
import { QueueEvents } from 'bullmq';
import {
  DELIVERY_QUEUE,
  EventProducer,
  createLogger,
  createMongoConnection,
  createRedisConnection,
  ensureIndexes,
  requireAuthConfig,
  type Config,
} from '@novee/shared';
import { createApp } from './app';
import { TestEventSender } from './events/test-event-sender';

export interface RunningApi {
  server: Server;
  url: string;
  stop(): Promise<void>;
}

/** Wire the API's dependencies from config and start listening. Used by main.ts and by the tests. */
export async function startApi(config: Config): Promise<RunningApi> {
  const logger = createLogger('api', config.logLevel);
  const auth = requireAuthConfig(config);
  const mongo = createMongoConnection(config.mongodbUrl, config.mongodbDb);
  const redis = createRedisConnection(config.redisUrl, 'producer');
  const eventsRedis = createRedisConnection(config.redisUrl, 'worker');
  for (const connection of [redis, eventsRedis]) {
    connection.on('error', (error: Error) => logger.warn('redis connection error', { error: error.message }));
  }

  await ensureIndexes(mongo.db).catch((error) =>
    logger.error('could not ensure MongoDB indexes; will serve 503 until MongoDB is reachable', { error }),
  );

  const producer = new EventProducer({ connection: redis, prefix: config.queuePrefix });
  const queueEvents = new QueueEvents(DELIVERY_QUEUE, { connection: eventsRedis, prefix: config.queuePrefix });
  queueEvents.on('error', (error) => logger.warn('queue events error', { error: error.message }));
  const testEvents = new TestEventSender(producer, queueEvents, mongo.db, config.testEventWaitMs);

  const app = createApp({
    db: mongo.db,
    redis,
    producer,
    testEvents,
    auth,
    urlPolicy: { allowHttpLoopback: config.allowHttpLoopbackWebhooks },
    logger,
  });
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(config.port, config.host, () => resolve(listening));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  logger.info('api listening', { url, allowHttpLoopbackWebhooks: config.allowHttpLoopbackWebhooks });

  return {
    server,
    url,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await queueEvents.close();
      await producer.close();
      redis.disconnect();
      eventsRedis.disconnect();
      await mongo.client.close();
    },
  };
}
