import { startApi, type RunningApi } from '@novee/api';
import { QueueQuotaExceededError, loadConfig } from '@novee/shared';
import { eventually, startHarness, type ApiBody, type Harness } from '../support/harness';
import { fallDetection, vitalThreshold } from '../support/fixtures';
import { expectErrorBody } from './support';

/** Floods: rate limits shared by every API instance through Redis, and the per-project cap on queued events. */

const post = async (baseUrl: string, token: string, method: string, path: string, body?: unknown) => {
  const response = await fetch(baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? (JSON.parse(text) as ApiBody) : undefined };
};

describe('rate limits (429 + Retry-After + RateLimit-*, shared across API instances)', () => {
  let h: Harness;
  let second: RunningApi;
  beforeAll(async () => {
    h = await startHarness({ workers: 0, env: { RATE_LIMIT_MANAGEMENT_PER_MINUTE: '6', RATE_LIMIT_EVENTS_PER_SECOND: '5' } });
    second = await startApi(loadConfig(h.env)); // a second instance on the same Redis
    await h.createProject('flood-a', ['auth0|member']);
    await h.createProject('flood-b', ['auth0|member']);
  });
  afterAll(async () => {
    await second.stop();
    await h.stop();
  });

  it('management calls: per token, counted across both instances', async () => {
    const token = await h.token('auth0|flooder');
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await post(i % 2 ? second.url : h.api.url, token, 'GET', '/webhooks/project/flood-a'));
    expect(answers.map((a) => a.status)).toEqual([403, 403, 403, 403, 403, 403]); // not a member, but counted
    expect(answers[0]!.headers.get('ratelimit-limit')).toBe('6');
    expect(answers[0]!.headers.get('ratelimit-policy')).toBe('6;w=60');
    expect(answers.map((a) => Number(a.headers.get('ratelimit-remaining')))).toEqual([5, 4, 3, 2, 1, 0]);

    for (const url of [h.api.url, second.url]) {
      const limited = await post(url, token, 'GET', '/webhooks/project/flood-a');
      expectErrorBody(limited, 429, /^Rate limit exceeded for this token: at most 6 requests per 60 seconds; retry after \d+ s$/);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(limited.headers.get('ratelimit-remaining')).toBe('0');
      expect(Number(limited.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(1);
    }

    // Another token is not affected.
    expect((await post(h.api.url, await h.token('auth0|member'), 'GET', '/webhooks/project/flood-a')).status).toBe(404);
  });

  it('POST /events: per project; a flood of one project is refused, its neighbour is not, and every 202 is queued', async () => {
    const pipeline = await h.token('pipeline|ingest', 'events:write:any');
    const flood = await Promise.all(
      Array.from({ length: 40 }, (_, i) => post(i % 2 ? second.url : h.api.url, pipeline, 'POST', '/events', vitalThreshold('flood-a'))),
    );
    const accepted = flood.filter((a) => a.status === 202).length;
    const limited = flood.filter((a) => a.status === 429);
    expect(accepted + limited.length).toBe(40);
    expect(accepted).toBeGreaterThanOrEqual(1);
    expect(accepted).toBeLessThanOrEqual(20); // 5 per second: even a slow machine spreads 40 requests over < 4 s
    expect(limited.length).toBeGreaterThan(0);
    expectErrorBody(limited[0]!, 429, /^Rate limit exceeded for project flood-a: at most 5 requests per second; retry after 1 s$/);
    expect(limited[0]!.headers.get('retry-after')).toBe('1');

    expect((await post(h.api.url, pipeline, 'POST', '/events', vitalThreshold('flood-b'))).status).toBe(202);
    expect(await h.producer.queue.count()).toBe(accepted + 1);
    // The window passes and the project may send again.
    await eventually(async () => (await post(h.api.url, pipeline, 'POST', '/events', vitalThreshold('flood-a'))).status === 202, 5_000);
    expect((await fetch(`${h.api.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${second.url}/healthz`)).status).toBe(200);
  });
});

describe('per-project cap on queued events (FALL_DETECTION refused last)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      workers: 0,
      env: {
        PROJECT_MAX_QUEUED_EVENTS: '5',
        PROJECT_MAX_QUEUED_FALL_EVENTS: '8',
        RETRY_SCHEDULE: 'none',
        RATE_LIMIT_EVENTS_PER_SECOND: '1000',
      },
    });
  });
  afterAll(() => h.stop());

  it('refuses VITAL_THRESHOLD at 5 queued, FALL_DETECTION at 8, other projects unaffected; a worker draining it frees room', async () => {
    const { path } = await h.webhookProject('capped');
    await h.webhookProject('neighbour');
    const pipeline = await h.token('pipeline|ingest', 'events:write:any');
    const send = (event: object) => post(h.api.url, pipeline, 'POST', '/events', event);

    for (let i = 0; i < 5; i++) expect((await send(vitalThreshold('capped'))).status).toBe(202);
    const vitalRefused = await send(vitalThreshold('capped'));
    expectErrorBody(
      vitalRefused,
      429,
      'Project capped has 5 events queued, the limit for VITAL_THRESHOLD events is 5: its webhook is not keeping up (check the receiver and the delivery log); retry later',
    );
    expect(vitalRefused.headers.get('retry-after')).toBe('30');

    for (let i = 0; i < 3; i++) expect((await send(fallDetection('capped'))).status).toBe(202);
    expectErrorBody(await send(fallDetection('capped')), 429, /has 8 events queued, the limit for FALL_DETECTION events is 8/);
    // A pipeline writing to Redis directly meets the same cap.
    await expect(h.producer.enqueue(fallDetection('capped'))).rejects.toBeInstanceOf(QueueQuotaExceededError);
    expect(await h.producer.queue.count()).toBe(8);
    // What a queued event costs Redis (README: under 2 kB), which is what the caps are sized by.
    const redis = (await h.producer.queue.client) as unknown as { memory(...args: string[]): Promise<number> };
    const [job] = await h.producer.queue.getJobs(['prioritized', 'waiting'], 0, 0);
    expect(await redis.memory('USAGE', `${h.config.queuePrefix}:webhook-deliveries:${job!.id}`)).toBeLessThan(2048);

    expect((await send(vitalThreshold('neighbour'))).status).toBe(202);

    // The receiver is up: a worker delivers the backlog and the project has room again.
    await h.startWorker();
    await h.receiver.waitFor(8, { path, timeoutMs: 15_000 });
    await eventually(async () => (await send(vitalThreshold('capped'))).status === 202, 5_000);
  });

  it('an event that failed for good no longer counts either', async () => {
    const { path } = await h.webhookProject('failing');
    h.receiver.respondWith((hook) => ({ status: hook.path === path ? 500 : 200 }));
    await Promise.all(h.workers.splice(0).map((worker) => worker.stop())); // nothing drains while the cap fills
    for (let i = 0; i < 5; i++) await h.producer.enqueue(vitalThreshold('failing'));
    await expect(h.producer.enqueue(vitalThreshold('failing'))).rejects.toBeInstanceOf(QueueQuotaExceededError);
    // RETRY_SCHEDULE none: one attempt each, then failed for good, and room again.
    await h.startWorker();
    await eventually(async () => (await h.producer.queue.getFailedCount()) >= 5, 15_000);
    await eventually(
      () =>
        h.producer.enqueue(vitalThreshold('failing')).then(
          () => true,
          () => false,
        ),
      5_000,
    );
  });
});
