import express, { type Express } from 'express';
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import type { Registry } from 'prom-client';
import type { EventProducer, Logger, SecretCipher, WebhookUrlPolicy } from '@novee/shared';
import { bearerAuth, type BearerAuthOptions } from './auth/bearer-auth';
import type { TestEventSender } from './events/test-event-sender';
import { accessLog } from './http/access-log';
import { errorHandler } from './http/error-handler';
import { requestId } from './http/request-id';
import { enqueuedEventsCounter } from './metrics/event-metrics';
import { httpMetrics } from './metrics/http-metrics';
import { notFound } from './http/http-error';
import { ProjectAccess } from './projects/project-access';
import { RegistrationStore } from './registrations/registration-store';
import { adminRoutes } from './routes/admin-routes';
import { docsRoutes } from './routes/docs-routes';
import { eventRoutes } from './routes/event-routes';
import { healthRoutes } from './routes/health-routes';
import { DeliveryLogReader } from './deliveries/delivery-log-reader';
import { deliveryLogRoutes } from './routes/delivery-log-routes';
import { pathProjectOfMember, webhookRoutes } from './routes/webhook-routes';

export interface AppDeps {
  db: Db;
  indexesReady: () => Promise<void>;
  cipher: SecretCipher;
  redis: Redis;
  producer: EventProducer;
  testEvents: TestEventSender;
  auth: BearerAuthOptions;
  urlPolicy: WebhookUrlPolicy;
  logger: Logger;
  metrics: Registry;
  bullBoardReadOnly: boolean;
  announceRegistrationChange: (projectId: string) => Promise<void>;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestId());
  app.use(accessLog(deps.logger));
  app.use(httpMetrics(deps.metrics));

  app.use(healthRoutes({ redis: deps.redis, db: deps.db }));
  app.use(docsRoutes());

  // Everything below needs a valid bearer token.
  app.use(bearerAuth(deps.auth));
  app.use(express.json({ limit: '256kb' }));
  app.use(eventRoutes(deps.producer, enqueuedEventsCounter(deps.metrics)));
  app.use(adminRoutes(deps.producer.queue, { readOnly: deps.bullBoardReadOnly }));
  const projects = new ProjectAccess(deps.db);
  const registrations = new RegistrationStore(deps.db, deps.indexesReady, deps.cipher, deps.announceRegistrationChange);
  app.use(webhookRoutes({ projects, registrations, testEvents: deps.testEvents, urlPolicy: deps.urlPolicy }));
  app.use(
    deliveryLogRoutes({
      deliveries: new DeliveryLogReader(deps.db),
      registrations,
      producer: deps.producer,
      memberProjectId: pathProjectOfMember(projects),
    }),
  );

  app.use((req, _res, next) => next(notFound(`Cannot ${req.method} ${req.path}`)));
  app.use(errorHandler(deps.logger));
  return app;
}
