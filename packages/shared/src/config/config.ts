import { createAjv, describeValidationErrors } from '../validation/ajv';
import { DEFAULT_PROJECT_BURST_PER_SECOND } from '../queue/project-burst-counter';
import { DEFAULT_QUEUE_PREFIX } from '../queue/queue-names';
import { DEFAULT_RETRY_SCHEDULE, parseRetrySchedule } from '../queue/retry-schedule';
import { SecretCipher } from '../secrets/secret-cipher';
import { DEFAULT_PROJECT_MAX_QUEUED_EVENTS, DEFAULT_PROJECT_MAX_QUEUED_FALL_EVENTS } from '../quotas/queued-events-quota';
import { DEFAULT_WEBHOOK_PORTS, parsePortAllowList, type PortAllowList } from '../webhooks/port-policy';

/** Environment variables read by the API and the worker, with their defaults. */
const envSchema = {
  type: 'object',
  properties: {
    REDIS_URL: { type: 'string', format: 'uri', default: 'redis://127.0.0.1:6379' },
    QUEUE_PREFIX: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', default: DEFAULT_QUEUE_PREFIX },
    MONGODB_URL: { type: 'string', pattern: '^mongodb(\\+srv)?://', default: 'mongodb://127.0.0.1:27017' },
    MONGODB_DB: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,63}$', default: 'novee_webhooks' },
    HOST: { type: 'string', default: '0.0.0.0' },
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 3000 },
    AUTH0_ISSUER_BASE_URL: { type: 'string', format: 'uri' },
    AUTH0_AUDIENCE: { type: 'string', minLength: 1 },
    WEBHOOK_ALLOW_HTTP_LOOPBACK: { type: 'boolean', default: false },
    WORKER_CONCURRENCY: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    DELIVERY_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 60_000, default: 5_000 },
    TEST_EVENT_WAIT_MS: { type: 'integer', minimum: 0, maximum: 30_000, default: 5_000 },
    SHUTDOWN_TIMEOUT_MS: { type: 'integer', minimum: 0, maximum: 300_000, default: 30_000 },
    LOG_LEVEL: { type: 'string', enum: ['error', 'warn', 'info', 'debug'], default: 'info' },
    RETRY_SCHEDULE: { type: 'string', default: DEFAULT_RETRY_SCHEDULE },
    ENDPOINT_MAX_IN_FLIGHT: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    ENDPOINT_INITIAL_IN_FLIGHT: { type: 'integer', minimum: 1, maximum: 1000, default: 4 },
    PROJECT_BURST_PER_SECOND: { type: 'integer', minimum: 1, maximum: 100_000, default: DEFAULT_PROJECT_BURST_PER_SECOND },
    CIRCUIT_FAILURE_THRESHOLD: { type: 'integer', minimum: 1, maximum: 1000, default: 5 },
    CIRCUIT_COOLDOWN_MS: { type: 'integer', minimum: 100, maximum: 3_600_000, default: 2_000 },
    CIRCUIT_MAX_COOLDOWN_MS: { type: 'integer', minimum: 100, maximum: 86_400_000, default: 20_000 },
    RETRY_AFTER_MAX_MS: { type: 'integer', minimum: 0, maximum: 86_400_000, default: 3_600_000 },
    ENDPOINT_DISABLE_AFTER: { type: 'string', pattern: '^[1-9][0-9]*(ms|s|m|h|d)$', default: '5d' },
    ENDPOINT_FAILING_NOTIFY_AFTER: { type: 'string', pattern: '^[1-9][0-9]*(ms|s|m|h|d)$', default: '1h' },
    OPERATIONAL_WEBHOOK_URL: { type: 'string', format: 'uri', pattern: '^https?://' },
    OPERATIONAL_WEBHOOK_SECRET: { type: 'string', pattern: '^whsec_(?:[0-9a-f]{64}|[A-Za-z0-9+/]{43}=)$' },
    WORKER_LOCK_DURATION_MS: { type: 'integer', minimum: 1_000, maximum: 600_000, default: 4_000 },
    WORKER_STALLED_INTERVAL_MS: { type: 'integer', minimum: 500, maximum: 600_000, default: 1_000 },
    RECORD_BACKLOG_MAX: { type: 'integer', minimum: 1_000, maximum: 100_000_000, default: 1_000_000 },
    SECRETS_ENCRYPTION_KEYS: { type: 'string', minLength: 1 },
    DELIVERY_RETENTION_DAYS: { type: 'number', exclusiveMinimum: 0, maximum: 3650, default: 30 },
    METRICS_HOST: { type: 'string', minLength: 1, default: '127.0.0.1' },
    METRICS_PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 9464 },
    BULL_BOARD_READ_ONLY: { type: 'boolean', default: true },
    IDEMPOTENCY_TTL: { type: 'string', pattern: '^[1-9][0-9]*(ms|s|m|h|d)$', default: '24h' },
    ENQUEUE_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 60_000, default: 3_000 },
    PROJECT_CACHE_TTL_MS: { type: 'integer', minimum: 0, maximum: 300_000, default: 5_000 },
    SECRET_ROTATION_GRACE_MS: { type: 'integer', minimum: 0, maximum: 2_592_000_000, default: 86_400_000 },
    BULL_BOARD_SHOW_JOB_DATA: { type: 'boolean', default: false },
    ADMIN_SESSION_TTL_MS: { type: 'integer', minimum: 10_000, maximum: 86_400_000, default: 900_000 },
    WEBHOOK_ALLOWED_PORTS: { type: 'string', default: DEFAULT_WEBHOOK_PORTS },
    HTTP_HEADERS_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 300_000, default: 10_000 },
    HTTP_REQUEST_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600_000, default: 30_000 },
    HTTP_KEEP_ALIVE_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600_000, default: 65_000 },
    RATE_LIMIT_MANAGEMENT_PER_MINUTE: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 300 },
    RATE_LIMIT_EVENTS_PER_SECOND: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 100 },
    PROJECT_MAX_QUEUED_EVENTS: { type: 'integer', minimum: 1, maximum: 10_000_000, default: DEFAULT_PROJECT_MAX_QUEUED_EVENTS },
    PROJECT_MAX_QUEUED_FALL_EVENTS: { type: 'integer', minimum: 1, maximum: 10_000_000, default: DEFAULT_PROJECT_MAX_QUEUED_FALL_EVENTS },
  },
} as const;

// Env values are strings: coerce them to the schema's types and fill in defaults.
const validateEnv = createAjv({ coerceTypes: true, useDefaults: true }).compile(envSchema);

/** The env after validation: every key with a default is present and of its schema's type. */
interface EnvValues {
  REDIS_URL: string;
  QUEUE_PREFIX: string;
  MONGODB_URL: string;
  MONGODB_DB: string;
  HOST: string;
  PORT: number;
  AUTH0_ISSUER_BASE_URL?: string;
  AUTH0_AUDIENCE?: string;
  WEBHOOK_ALLOW_HTTP_LOOPBACK: boolean;
  WORKER_CONCURRENCY: number;
  DELIVERY_TIMEOUT_MS: number;
  TEST_EVENT_WAIT_MS: number;
  SHUTDOWN_TIMEOUT_MS: number;
  LOG_LEVEL: Config['logLevel'];
  RETRY_SCHEDULE: string;
  ENDPOINT_MAX_IN_FLIGHT: number;
  ENDPOINT_INITIAL_IN_FLIGHT: number;
  PROJECT_BURST_PER_SECOND: number;
  CIRCUIT_FAILURE_THRESHOLD: number;
  CIRCUIT_COOLDOWN_MS: number;
  CIRCUIT_MAX_COOLDOWN_MS: number;
  RETRY_AFTER_MAX_MS: number;
  ENDPOINT_DISABLE_AFTER: string;
  ENDPOINT_FAILING_NOTIFY_AFTER: string;
  OPERATIONAL_WEBHOOK_URL?: string;
  OPERATIONAL_WEBHOOK_SECRET?: string;
  WORKER_LOCK_DURATION_MS: number;
  WORKER_STALLED_INTERVAL_MS: number;
  RECORD_BACKLOG_MAX: number;
  SECRETS_ENCRYPTION_KEYS?: string;
  DELIVERY_RETENTION_DAYS: number;
  METRICS_HOST: string;
  METRICS_PORT: number;
  BULL_BOARD_READ_ONLY: boolean;
  IDEMPOTENCY_TTL: string;
  ENQUEUE_TIMEOUT_MS: number;
  PROJECT_CACHE_TTL_MS: number;
  SECRET_ROTATION_GRACE_MS: number;
  BULL_BOARD_SHOW_JOB_DATA: boolean;
  ADMIN_SESSION_TTL_MS: number;
  WEBHOOK_ALLOWED_PORTS: string;
  HTTP_HEADERS_TIMEOUT_MS: number;
  HTTP_REQUEST_TIMEOUT_MS: number;
  HTTP_KEEP_ALIVE_TIMEOUT_MS: number;
  RATE_LIMIT_MANAGEMENT_PER_MINUTE: number;
  RATE_LIMIT_EVENTS_PER_SECOND: number;
  PROJECT_MAX_QUEUED_EVENTS: number;
  PROJECT_MAX_QUEUED_FALL_EVENTS: number;
}

export interface Config {
  redisUrl: string;
  queuePrefix: string;
  mongodbUrl: string;
  mongodbDb: string;
  host: string;
  port: number;
  auth0IssuerBaseUrl?: string;
  auth0Audience?: string;
  /** Dev/test only: accept http:// webhook URLs on loopback. Never set in production. */
  allowHttpLoopbackWebhooks: boolean;
  workerConcurrency: number;
  deliveryTimeoutMs: number;
  testEventWaitMs: number;
  shutdownTimeoutMs: number;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  /** Delays (ms) before each retry of a failed delivery; attempts = length + 1. */
  retrySchedule: number[];
  /** The ceiling of an endpoint's adaptive in-flight limit (deliveries in flight to it across all workers). */
  endpointMaxInFlight: number;
  /** Where an endpoint's limit starts, and the most a hanging endpoint admits (at most endpointMaxInFlight). */
  endpointInitialInFlight: number;
  /** A project's events beyond this many per second are queued behind other projects' (the bulk lane). */
  projectBurstPerSecond: number;
  circuitFailureThreshold: number;
  circuitCooldownMs: number;
  circuitMaxCooldownMs: number;
  /** The longest a receiver's Retry-After (429/503) pauses its endpoint and stretches an event's next retry. */
  retryAfterMaxMs: number;
  /** An endpoint whose every attempt has failed for this long (ms) is disabled (worker). */
  endpointDisableAfterMs: number;
  /** An endpoint failing continuously this long is announced once (endpoint.failing operational webhook). */
  endpointFailingNotifyAfterMs: number;
  /** Where operational webhooks go (endpoint.failing / disabled / recovered), signed with the secret; unset: none. */
  operationalWebhookUrl?: string;
  operationalWebhookSecret?: string;
  /** A job whose worker stops renewing its lock for this long (e.g. killed) is handed to another worker. */
  workerLockDurationMs: number;
  workerStalledIntervalMs: number;
  /** Delivery records waiting in Redis for MongoDB beyond which workers stop taking jobs until it drains. */
  recordBacklogMax: number;
  /** "id:base64key,..." for encrypting webhook secrets at rest; required by the API and the worker. */
  secretsEncryptionKeys?: string;
  /** Delivery records are deleted this long after they were written (TTL index). */
  deliveryRetentionDays: number;
  /** Prometheus /metrics is served on its own port (0 = any free port). */
  metricsHost: string;
  metricsPort: number;
  /** Bull Board (admin scope) can only look unless this is false. */
  bullBoardReadOnly: boolean;
  /** An Idempotency-Key answers with its event for this long (ms), whatever became of the job. */
  idempotencyTtlMs: number;
  /** How long an enqueue may wait for Redis before answering 503 (known not enqueued) or 504 (not confirmed). */
  enqueueTimeoutMs: number;
  /** The API reuses a project's members for this long (ms) before asking MongoDB again (POST /events). */
  projectCacheTtlMs: number;
  /** After a rotation, how long the previous secret still signs (webhook-signature), so receivers switch with no gap. */
  secretRotationGraceMs: number;
  /** Bull Board shows job data redacted to ids, type and project unless this is true (event data is PHI). */
  bullBoardShowJobData: boolean;
  /** Lifetime of the browser session cookie an admin token is exchanged for (Bull Board). */
  adminSessionTtlMs: number;
  /** Ports a webhook URL may use (default 443 and 1024-65535). */
  webhookAllowedPorts: PortAllowList;
  /** API server: time to receive a request's headers, the whole request, and how long an idle connection stays open. */
  httpHeadersTimeoutMs: number;
  httpRequestTimeoutMs: number;
  httpKeepAliveTimeoutMs: number;
  /** Management calls per minute per caller (token subject), across all API instances. */
  rateLimitManagementPerMinute: number;
  /** POST /events per second per project, across all API instances. */
  rateLimitEventsPerSecond: number;
  /** A project's queued events beyond which events are refused (429); FALL_DETECTION has its own, higher cap. */
  projectMaxQueuedEvents: number;
  projectMaxQueuedFallEvents: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Read and check the configuration; throws ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const names = Object.keys(envSchema.properties);
  const values: Record<string, unknown> = {};
  for (const name of names) if (env[name] !== undefined && env[name] !== '') values[name] = env[name];
  if (!validateEnv(values)) {
    throw new ConfigError(`Invalid configuration: ${describeValidationErrors(validateEnv.errors).join('; ')}`);
  }
  const v = values as unknown as EnvValues;
  let retrySchedule: number[];
  let webhookAllowedPorts: PortAllowList;
  try {
    retrySchedule = parseRetrySchedule(v.RETRY_SCHEDULE);
    webhookAllowedPorts = parsePortAllowList(v.WEBHOOK_ALLOWED_PORTS);
  } catch (error) {
    throw new ConfigError(`Invalid configuration: ${(error as Error).message}`);
  }
  if (v.OPERATIONAL_WEBHOOK_URL && !v.OPERATIONAL_WEBHOOK_SECRET) {
    throw new ConfigError('Invalid configuration: OPERATIONAL_WEBHOOK_SECRET must be set with OPERATIONAL_WEBHOOK_URL (whsec_...)');
  }
  if (v.PROJECT_MAX_QUEUED_FALL_EVENTS < v.PROJECT_MAX_QUEUED_EVENTS) {
    throw new ConfigError(
      'Invalid configuration: PROJECT_MAX_QUEUED_FALL_EVENTS must be at least PROJECT_MAX_QUEUED_EVENTS (falls are refused last)',
    );
  }
  return {
    redisUrl: v.REDIS_URL,
    queuePrefix: v.QUEUE_PREFIX,
    mongodbUrl: v.MONGODB_URL,
    mongodbDb: v.MONGODB_DB,
    host: v.HOST,
    port: v.PORT,
    auth0IssuerBaseUrl: v.AUTH0_ISSUER_BASE_URL,
    auth0Audience: v.AUTH0_AUDIENCE,
    allowHttpLoopbackWebhooks: v.WEBHOOK_ALLOW_HTTP_LOOPBACK,
    workerConcurrency: v.WORKER_CONCURRENCY,
    deliveryTimeoutMs: v.DELIVERY_TIMEOUT_MS,
    testEventWaitMs: v.TEST_EVENT_WAIT_MS,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    logLevel: v.LOG_LEVEL,
    retrySchedule,
    endpointMaxInFlight: v.ENDPOINT_MAX_IN_FLIGHT,
    endpointInitialInFlight: Math.min(v.ENDPOINT_INITIAL_IN_FLIGHT, v.ENDPOINT_MAX_IN_FLIGHT),
    projectBurstPerSecond: v.PROJECT_BURST_PER_SECOND,
    circuitFailureThreshold: v.CIRCUIT_FAILURE_THRESHOLD,
    circuitCooldownMs: v.CIRCUIT_COOLDOWN_MS,
    circuitMaxCooldownMs: v.CIRCUIT_MAX_COOLDOWN_MS,
    retryAfterMaxMs: v.RETRY_AFTER_MAX_MS,
    endpointDisableAfterMs: parseRetrySchedule(v.ENDPOINT_DISABLE_AFTER)[0]!,
    endpointFailingNotifyAfterMs: parseRetrySchedule(v.ENDPOINT_FAILING_NOTIFY_AFTER)[0]!,
    operationalWebhookUrl: v.OPERATIONAL_WEBHOOK_URL,
    operationalWebhookSecret: v.OPERATIONAL_WEBHOOK_SECRET,
    workerLockDurationMs: v.WORKER_LOCK_DURATION_MS,
    workerStalledIntervalMs: v.WORKER_STALLED_INTERVAL_MS,
    recordBacklogMax: v.RECORD_BACKLOG_MAX,
    secretsEncryptionKeys: v.SECRETS_ENCRYPTION_KEYS,
    deliveryRetentionDays: v.DELIVERY_RETENTION_DAYS,
    metricsHost: v.METRICS_HOST,
    metricsPort: v.METRICS_PORT,
    bullBoardReadOnly: v.BULL_BOARD_READ_ONLY,
    idempotencyTtlMs: parseRetrySchedule(v.IDEMPOTENCY_TTL)[0]!,
    enqueueTimeoutMs: v.ENQUEUE_TIMEOUT_MS,
    projectCacheTtlMs: v.PROJECT_CACHE_TTL_MS,
    secretRotationGraceMs: v.SECRET_ROTATION_GRACE_MS,
    bullBoardShowJobData: v.BULL_BOARD_SHOW_JOB_DATA,
    adminSessionTtlMs: v.ADMIN_SESSION_TTL_MS,
    webhookAllowedPorts,
    httpHeadersTimeoutMs: v.HTTP_HEADERS_TIMEOUT_MS,
    httpRequestTimeoutMs: v.HTTP_REQUEST_TIMEOUT_MS,
    httpKeepAliveTimeoutMs: v.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    rateLimitManagementPerMinute: v.RATE_LIMIT_MANAGEMENT_PER_MINUTE,
    rateLimitEventsPerSecond: v.RATE_LIMIT_EVENTS_PER_SECOND,
    projectMaxQueuedEvents: v.PROJECT_MAX_QUEUED_EVENTS,
    projectMaxQueuedFallEvents: v.PROJECT_MAX_QUEUED_FALL_EVENTS,
  };
}

/** The API cannot run without knowing which Auth0 tenant and audience to trust. */
export function requireAuthConfig(config: Config): { issuerBaseURL: string; audience: string } {
  const { auth0IssuerBaseUrl: issuerBaseURL, auth0Audience: audience } = config;
  if (!issuerBaseURL || !audience) {
    const missing = [!issuerBaseURL && 'AUTH0_ISSUER_BASE_URL', !audience && 'AUTH0_AUDIENCE'].filter(Boolean);
    throw new ConfigError(`Missing configuration: ${missing.join(', ')} must be set`);
  }
  return { issuerBaseURL, audience };
}

/** The cipher for webhook secrets at rest; the API and the worker refuse to start without valid keys. */
export function requireSecretCipher(config: Config): SecretCipher {
  if (!config.secretsEncryptionKeys) {
    throw new ConfigError(
      'Missing configuration: SECRETS_ENCRYPTION_KEYS must be set (make one with `npm run cli -- secrets:generate-key`)',
    );
  }
  try {
    return SecretCipher.fromKeyList(config.secretsEncryptionKeys);
  } catch (error) {
    throw new ConfigError(`Invalid configuration: ${(error as Error).message}`);
  }
}
