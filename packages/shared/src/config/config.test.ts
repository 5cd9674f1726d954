import { ConfigError, loadConfig, requireAuthConfig } from './config';

describe('loadConfig', () => {
  it('fills in defaults for an empty environment', () => {
    expect(loadConfig({})).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      mongodbUrl: 'mongodb://127.0.0.1:27017',
      mongodbDb: 'novee_webhooks',
      queuePrefix: 'novee',
      port: 3000,
      allowHttpLoopbackWebhooks: false,
      workerConcurrency: 100,
      deliveryTimeoutMs: 5000,
      logLevel: 'info',
      secretRotationGraceMs: 86_400_000,
    });
  });

  it('adaptive endpoint limit: starts at ENDPOINT_INITIAL_IN_FLIGHT under the ceiling ENDPOINT_MAX_IN_FLIGHT, never above it', () => {
    expect(loadConfig({})).toMatchObject({ endpointInitialInFlight: 4, endpointMaxInFlight: 100 });
    expect(loadConfig({ ENDPOINT_INITIAL_IN_FLIGHT: '8', ENDPOINT_MAX_IN_FLIGHT: '50' })).toMatchObject({
      endpointInitialInFlight: 8,
      endpointMaxInFlight: 50,
    });
    expect(loadConfig({ ENDPOINT_MAX_IN_FLIGHT: '2' })).toMatchObject({ endpointInitialInFlight: 2, endpointMaxInFlight: 2 });
    expect(() => loadConfig({ ENDPOINT_INITIAL_IN_FLIGHT: '0' })).toThrow(/ENDPOINT_INITIAL_IN_FLIGHT/);
  });

  it('reads and converts the environment', () => {
    const config = loadConfig({
      REDIS_URL: 'redis://cache:6380',
      PORT: '8080',
      WORKER_CONCURRENCY: '8',
      WEBHOOK_ALLOW_HTTP_LOOPBACK: 'true',
      AUTH0_ISSUER_BASE_URL: 'https://novee.eu.auth0.com/',
      AUTH0_AUDIENCE: 'https://api.novee.example',
      SECRET_ROTATION_GRACE_MS: '0',
    });
    expect(config).toMatchObject({
      redisUrl: 'redis://cache:6380',
      port: 8080,
      workerConcurrency: 8,
      allowHttpLoopbackWebhooks: true,
      secretRotationGraceMs: 0,
    });
    expect(requireAuthConfig(config)).toEqual({
      issuerBaseURL: 'https://novee.eu.auth0.com/',
      audience: 'https://api.novee.example',
    });
  });

  it('names every invalid variable', () => {
    const load = () => loadConfig({ PORT: 'eighty', WORKER_CONCURRENCY: '0', MONGODB_URL: 'postgres://x' });
    expect(load).toThrow('PORT must be of type integer');
    expect(load).toThrow('WORKER_CONCURRENCY must be >= 1');
    expect(load).toThrow('MONGODB_URL must match pattern');
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(ConfigError);
  });

  it('reads the ingestion settings: idempotency window, enqueue bound, project cache', () => {
    expect(loadConfig({})).toMatchObject({ idempotencyTtlMs: 24 * 3_600_000, enqueueTimeoutMs: 3_000, projectCacheTtlMs: 5_000 });
    expect(loadConfig({ IDEMPOTENCY_TTL: '2d', ENQUEUE_TIMEOUT_MS: '500', PROJECT_CACHE_TTL_MS: '0' })).toMatchObject({
      idempotencyTtlMs: 2 * 86_400_000,
      enqueueTimeoutMs: 500,
      projectCacheTtlMs: 0,
    });
    expect(() => loadConfig({ IDEMPOTENCY_TTL: '0h' })).toThrow('IDEMPOTENCY_TTL must match pattern');
    expect(() => loadConfig({ IDEMPOTENCY_TTL: 'a day' })).toThrow('IDEMPOTENCY_TTL must match pattern');
  });

  it('reads the endpoint lifecycle settings: Retry-After cap, disabling, operational webhooks', () => {
    expect(loadConfig({})).toMatchObject({
      retryAfterMaxMs: 3_600_000,
      endpointDisableAfterMs: 5 * 86_400_000,
      endpointFailingNotifyAfterMs: 3_600_000,
      operationalWebhookUrl: undefined,
    });
    const secret = `whsec_${'A'.repeat(43)}=`;
    expect(
      loadConfig({
        ENDPOINT_DISABLE_AFTER: '90s',
        OPERATIONAL_WEBHOOK_URL: 'https://ops.example.com/hook',
        OPERATIONAL_WEBHOOK_SECRET: secret,
      }),
    ).toMatchObject({
      endpointDisableAfterMs: 90_000,
      operationalWebhookUrl: 'https://ops.example.com/hook',
      operationalWebhookSecret: secret,
    });
    expect(() => loadConfig({ OPERATIONAL_WEBHOOK_URL: 'https://ops.example.com/hook' })).toThrow('OPERATIONAL_WEBHOOK_SECRET must be set');
    expect(() => loadConfig({ OPERATIONAL_WEBHOOK_SECRET: 'hunter2' })).toThrow('OPERATIONAL_WEBHOOK_SECRET must match pattern');
    expect(() => loadConfig({ ENDPOINT_DISABLE_AFTER: '5 days' })).toThrow('ENDPOINT_DISABLE_AFTER must match pattern');
  });

  it('requires the Auth0 settings for the API', () => {
    expect(() => requireAuthConfig(loadConfig({}))).toThrow('AUTH0_ISSUER_BASE_URL, AUTH0_AUDIENCE must be set');
  });
});

describe('loadConfig: hardening settings', () => {
  it('has safe defaults: metrics on loopback, 443 and unprivileged ports, rate limits and caps on', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      metricsHost: '127.0.0.1',
      webhookAllowedPorts: [
        [443, 443],
        [1024, 65535],
      ],
      httpHeadersTimeoutMs: 10_000,
      httpRequestTimeoutMs: 30_000,
      httpKeepAliveTimeoutMs: 65_000,
      rateLimitManagementPerMinute: 300,
      rateLimitEventsPerSecond: 100,
      projectMaxQueuedEvents: 10_000,
      projectMaxQueuedFallEvents: 20_000,
      bullBoardReadOnly: true,
      bullBoardShowJobData: false,
      adminSessionTtlMs: 900_000,
    });
  });

  it('refuses a bad port list, and a FALL_DETECTION cap below the general one', () => {
    expect(() => loadConfig({ WEBHOOK_ALLOWED_PORTS: '443,ssh' })).toThrow('WEBHOOK_ALLOWED_PORTS: "ssh" is not a port');
    expect(() => loadConfig({ PROJECT_MAX_QUEUED_EVENTS: '100', PROJECT_MAX_QUEUED_FALL_EVENTS: '50' })).toThrow(
      'PROJECT_MAX_QUEUED_FALL_EVENTS must be at least PROJECT_MAX_QUEUED_EVENTS',
    );
  });
});
