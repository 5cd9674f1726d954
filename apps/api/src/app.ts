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
import { enqueuedEventsCounter, recoveredEventsCounter } from './metrics/event-metrics';
import { httpMetrics } from './metrics/http-metrics';
import { notFound } from './http/http-error';
import { ProjectAccess } from './projects/project-access';
import { ProjectMembersCache } from './projects/project-members-cache';
import { RegistrationStore } from './registrations/registration-store';
import { adminRoutes } from './routes/admin-routes';
import { docsRoutes } from './routes/docs-routes';
import { BATCH_BODY_LIMIT, eventBatchRoutes } from './routes/event-batch-routes';
import { eventRoutes } from './routes/event-routes';
import { healthRoutes } from './routes/health-routes';
import { DeliveryLogReader } from './deliveries/delivery-log-reader';
import { AdminSessions } from './admin/admin-sessions';
import { methodNotAllowed } from './http/method-not-allowed';
import { requireJsonBody } from './http/require-json';
import { noStore, securityHeaders, uiContentSecurityPolicy } from './http/security-headers';
import { openApiDocument } from './openapi/openapi-document';
import { ingestionRateLimiter, managementRateLimit } from './rate-limits';
import { deliveryLogRoutes } from './routes/delivery-log-routes';
import { recoveryRoutes } from './routes/recovery-routes';
import { RecoveryStore } from './recoveries/recovery-store';
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
  /** POST /events reuses a project's members this long (ms) before asking MongoDB again. */
  projectCacheTtlMs: number;
  /** After a rotation, how long the previous secret still signs webhook-signature. */
  secretRotationGraceMs: number;
  /** Hardening: Bull Board's data redaction and sessions, and the rate limits (see README, Security). */
  security: {
    bullBoardShowJobData: boolean;
    queuePrefix: string;
    adminSessionTtlMs: number;
    rateLimitManagementPerMinute: number;
    rateLimitEventsPerSecond: number;
  };
  announceRegistrationChange: (projectId: string) => Promise<void>;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestId());
  app.use(accessLog(deps.logger));
  app.use(httpMetrics(deps.metrics));

  // Hardening (security headers, 405, the board's own sign-in, rate limits, JSON only, no-store): kept together.
  const authenticate = bearerAuth(deps.auth);
  const limits = {
    redis: deps.redis,
    queuePrefix: deps.security.queuePrefix,
    logger: deps.logger,
    managementPerMinute: deps.security.rateLimitManagementPerMinute,
    eventsPerSecond: deps.security.rateLimitEventsPerSecond,
  };
  app.use(securityHeaders());
  app.use(methodNotAllowed(openApiDocument.paths));
  app.use('/docs', uiContentSecurityPolicy());
  app.use(
    adminRoutes({
      queue: deps.producer.queue,
      readOnly: deps.bullBoardReadOnly,
      showJobData: deps.security.bullBoardShowJobData,
      authenticate,
      sessions: new AdminSessions(deps.redis, deps.security.queuePrefix, deps.security.adminSessionTtlMs),
    }),
  );

  app.use(healthRoutes({ redis: deps.redis, db: deps.db }));
  app.use(docsRoutes());

  // Everything below needs a valid bearer token.
  app.use(authenticate, noStore, managementRateLimit(limits), requireJsonBody);
  // A batch of events may be larger than one request of any other kind (parsed first, the next parser skips it).
  app.use('/events/batch', express.json({ limit: BATCH_BODY_LIMIT }));
  app.use(express.json({ limit: '256kb' }));
  const ingestion = {
    producer: deps.producer,
    projects: new ProjectMembersCache(deps.db, { ttlMs: deps.projectCacheTtlMs }),
    enqueued: enqueuedEventsCounter(deps.metrics),
  };
  const ingestionLimit = ingestionRateLimiter(limits);
  app.use(eventRoutes({ ...ingestion, rateLimit: ingestionLimit.middleware }));
  app.use(eventBatchRoutes({ ...ingestion, rateLimit: ingestionLimit }));
  const projects = new ProjectAccess(deps.db);
  const registrations = new RegistrationStore(
    deps.db,
    deps.indexesReady,
    deps.cipher,
    deps.announceRegistrationChange,
    deps.secretRotationGraceMs,
  );
  app.use(webhookRoutes({ projects, registrations, testEvents: deps.testEvents, urlPolicy: deps.urlPolicy }));
  app.use(
    deliveryLogRoutes({
      deliveries: new DeliveryLogReader(deps.db),
      registrations,
      producer: deps.producer,
      memberProjectId: pathProjectOfMember(projects),
    }),
  );

  app.use(
    recoveryRoutes({
      recoveries: new RecoveryStore(deps.db, deps.producer, recoveredEventsCounter(deps.metrics)),
      registrations,
      memberProjectId: pathProjectOfMember(projects),
    }),
  );

  app.use((req, _res, next) => next(notFound(`Cannot ${req.method} ${req.path}`)));
  app.use(errorHandler(deps.logger));
  return app;
}
