import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { MongoClient, type Db } from 'mongodb';
import { startApi, type RunningApi } from '@novee/api';
import { LocalTokenIssuer, WebhookReceiver } from '@novee/devkit';
import { EventProducer, SecretCipher, createRedisConnection, loadConfig, projectsCollection, type Config } from '@novee/shared';
import { startWorker, type RunningWorker } from '@novee/worker';

export const AUDIENCE = 'https://api.novee.test';

/** A delivery attempt as GET /webhooks/project/:projectId/deliveries lists it. */
export interface DeliveryItem {
  id: string;
  eventId: string;
  webhookType: string;
  attempt: number;
  status: string;
  statusCode?: number;
  error?: string;
  durationMs?: number;
  urlHost?: string;
  final?: boolean;
  redelivery?: boolean;
  createdAt: string;
}

/**
 * The fields the API's JSON answers carry (see its OpenAPI document), together: each test reads the ones its
 * call returns and checks their values, so a field missing at run time fails the test, not the type check.
 */
export interface ApiBody {
  statusCode: number;
  error: string;
  message: string;
  _id: string;
  projectId: string;
  url: string;
  types: string[];
  secret: string;
  expiresAt: string;
  eventId: string;
  redeliveryId: string;
  delivered: boolean;
  items: DeliveryItem[];
  nextCursor: string | null;
  [field: string]: unknown;
}

export interface ApiResponse<T = ApiBody> {
  status: number;
  headers: Headers;
  body: T;
}

export interface Harness {
  config: Config;
  /** The environment the API and workers were configured from (for worker processes). */
  env: NodeJS.ProcessEnv;
  api: RunningApi;
  workers: RunningWorker[];
  issuer: LocalTokenIssuer;
  receiver: WebhookReceiver;
  db: Db;
  /** A producer like an upstream pipeline's, writing to BullMQ directly. */
  producer: EventProducer;
  /** The producer's Redis connection (the client its queue uses), for looking at keys directly. */
  redis: Redis;
  token(sub: string, scope?: string): Promise<string>;
  request<T = ApiBody>(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<ApiResponse<T>>;
  createProject(projectId: string, members: string[]): Promise<void>;
  /**
   * A project whose member is auth0|member, with a webhook registered through the API (by default on the
   * loopback receiver at /hooks/{projectId}).
   */
  webhookProject(
    projectId: string,
    options?: { types?: string[]; url?: string },
  ): Promise<{ projectId: string; path: string; secret: string }>;
  startWorker(env?: Record<string, string>): Promise<RunningWorker>;
  stop(): Promise<void>;
}

/** Environment for this harness: the suite's Redis and MongoDB, a fresh database and queue prefix. */
function harnessEnv(issuer: LocalTokenIssuer, overrides: Record<string, string>): NodeJS.ProcessEnv {
  const id = randomUUID().slice(0, 8);
  return {
    REDIS_URL: process.env.REDIS_URL,
    MONGODB_URL: process.env.MONGODB_URL,
    MONGODB_DB: `test_${id}`,
    QUEUE_PREFIX: `test_${id}`,
    HOST: '127.0.0.1',
    PORT: '0',
    AUTH0_ISSUER_BASE_URL: issuer.issuer,
    AUTH0_AUDIENCE: AUDIENCE,
    WEBHOOK_ALLOW_HTTP_LOOPBACK: 'true',
    DELIVERY_TIMEOUT_MS: '2000',
    RETRY_SCHEDULE: '200ms,400ms',
    SHUTDOWN_TIMEOUT_MS: '3000',
    LOG_LEVEL: 'error',
    METRICS_PORT: '0',
    SECRETS_ENCRYPTION_KEYS: SecretCipher.generateKeyEntry('test'),
    ...overrides,
  };
}

export async function startHarness(options: { workers?: number; env?: Record<string, string> } = {}): Promise<Harness> {
  const issuer = await LocalTokenIssuer.start({ audience: AUDIENCE });
  const receiver = await WebhookReceiver.start();
  const env = harnessEnv(issuer, options.env ?? {});
  const config = loadConfig(env);
  const api = await startApi(config);
  const mongo = new MongoClient(config.mongodbUrl);
  const db = mongo.db(config.mongodbDb);
  const producerRedis = createRedisConnection(config.redisUrl, 'producer');
  const producer = new EventProducer({
    connection: producerRedis,
    prefix: config.queuePrefix,
    retrySchedule: config.retrySchedule,
    projectBurstPerSecond: config.projectBurstPerSecond,
    maxQueuedEvents: { maxQueued: config.projectMaxQueuedEvents, maxQueuedFall: config.projectMaxQueuedFallEvents },
  });
  const workers: RunningWorker[] = [];

  const harness: Harness = {
    config,
    env,
    api,
    workers,
    issuer,
    receiver,
    db,
    producer,
    redis: producerRedis,
    token: (sub, scope) => issuer.issueToken({ sub, scope }),
    async request<T>(
      method: string,
      path: string,
      {
        token,
        body,
        rawBody,
        headers: extraHeaders,
      }: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
    ) {
      const headers: Record<string, string> = { ...extraHeaders };
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined || rawBody !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(api.url + path, {
        method,
        headers,
        body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
    },
    async createProject(projectId, members) {
      await projectsCollection(db).insertOne({ _id: projectId, members });
    },
    async webhookProject(projectId, { types = ['FALL_DETECTION', 'VITAL_THRESHOLD'], url } = {}) {
      const path = `/hooks/${projectId}`;
      await harness.createProject(projectId, ['auth0|member']);
      const res = await harness.request('POST', '/webhooks/register', {
        token: await harness.token('auth0|member'),
        body: { projectId, url: url ?? receiver.url(path), types },
      });
      if (res.status !== 201) throw new Error(`register ${projectId}: ${res.status} ${JSON.stringify(res.body)}`);
      return { projectId, path, secret: res.body.secret };
    },
    async startWorker(extraEnv = {}) {
      const worker = await startWorker(loadConfig({ ...env, ...extraEnv }));
      workers.push(worker);
      return worker;
    },
    async stop() {
      await Promise.all(workers.map((worker) => worker.stop()));
      await api.stop();
      await producer.close();
      producerRedis.disconnect();
      await mongo.close();
      await receiver.stop();
      await issuer.stop();
    },
  };
  for (let i = 0; i < (options.workers ?? 1); i++) await harness.startWorker();
  return harness;
}

/** Poll until `probe` returns a truthy value, or fail after timeoutMs. */
export async function eventually<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
