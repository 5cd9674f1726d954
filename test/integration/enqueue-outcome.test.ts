import { randomUUID } from 'node:crypto';
import IORedis from 'ioredis';
import { startRedisServer, type LocalRedis } from '@novee/devkit';
import type { DeliveryJobData } from '@novee/shared';
import { eventually, startHarness, type ApiResponse, type Harness } from './support/harness';
import { fallDetection } from './support/fixtures';
import { ReplyHoldingProxy } from './support/reply-holding-proxy';

/**
 * 503 means "not enqueued", exactly: a client may resend without a key and never create a duplicate. Tested
 * against a real Redis that stalls (SIGSTOP, then SIGCONT) and one whose answer to the add is held back.
 */
const ENQUEUE_TIMEOUT_MS = 1_500;

let redis: LocalRedis;
let redisPid: number;
beforeAll(async () => {
  redis = await startRedisServer(); // its own, so stopping it disturbs no other test file
  const client = new IORedis(redis.url);
  redisPid = Number(/process_id:(\d+)/.exec(await client.info('server'))![1]);
  client.disconnect();
});
afterAll(async () => {
  process.kill(redisPid, 'SIGCONT');
  await redis.stop();
});

/** The API, on `redisUrl`, and no worker: what the API adds stays in the queue to be counted. */
async function harnessOn(redisUrl: string): Promise<{ h: Harness; post: (event: unknown, key?: string) => Promise<ApiResponse> }> {
  const h = await startHarness({ workers: 0, env: { REDIS_URL: redisUrl, ENQUEUE_TIMEOUT_MS: String(ENQUEUE_TIMEOUT_MS) } });
  await h.createProject('outcome', ['auth0|member']);
  const token = await h.token('auth0|member', 'events:write');
  // Warm up: the connection, BullMQ's scripts and the project cache are ready before Redis is disturbed.
  expect((await h.request('POST', '/events', { token, body: fallDetection('outcome') })).status).toBe(202);
  const post = (event: unknown, key?: string) =>
    h.request('POST', '/events', { token, body: event, headers: key ? { 'idempotency-key': key } : {} });
  return { h, post };
}

async function jobsFor(h: Harness, userUUID: string): Promise<DeliveryJobData[]> {
  const jobs = await h.producer.queue.getJobs(['prioritized', 'waiting', 'delayed', 'active', 'completed', 'failed']);
  return jobs.filter((job) => job?.data.userUUID === userUUID).map((job) => job.data);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Redis stalled (SIGSTOP) and resumed', () => {
  let h: Harness;
  let post: Awaited<ReturnType<typeof harnessOn>>['post'];
  beforeAll(async () => ({ h, post } = await harnessOn(redis.url)));
  afterAll(() => h.stop());
  afterEach(() => process.kill(redisPid, 'SIGCONT'));

  it('stalled longer than ENQUEUE_TIMEOUT_MS: 503, and the event is not enqueued when Redis comes back', async () => {
    const event = fallDetection('outcome');
    process.kill(redisPid, 'SIGSTOP');
    const res = await post(event);
    expect(res).toMatchObject({ status: 503, body: { message: 'Event queue is unavailable, try again shortly' } });
    process.kill(redisPid, 'SIGCONT');
    await sleep(1_000); // anything the stalled Redis had received has run by now
    expect(await jobsFor(h, event.userUUID)).toHaveLength(0);
  });

  it('with an Idempotency-Key: 503 while stalled, then the retry enqueues it exactly once', async () => {
    const event = fallDetection('outcome');
    const key = randomUUID();
    process.kill(redisPid, 'SIGSTOP');
    expect((await post(event, key)).status).toBe(503);
    process.kill(redisPid, 'SIGCONT');
    await sleep(1_000);
    expect(await jobsFor(h, event.userUUID)).toHaveLength(0);
    const retry = await post(event, key);
    expect(retry.status).toBe(202);
    const jobs = await jobsFor(h, event.userUUID);
    expect(jobs.map((job) => job.eventId)).toEqual([retry.body.eventId]);
  });

  it('stalled shorter than ENQUEUE_TIMEOUT_MS: the request waits, then 202 and the job is there', async () => {
    const event = fallDetection('outcome');
    process.kill(redisPid, 'SIGSTOP');
    const pending = post(event);
    await sleep(500);
    process.kill(redisPid, 'SIGCONT');
    const res = await pending;
    expect(res.status).toBe(202);
    expect((await jobsFor(h, event.userUUID)).map((job) => job.eventId)).toEqual([res.body.eventId]);
  });
});

describe('the add reached Redis but its answer did not come back in time', () => {
  let proxy: ReplyHoldingProxy;
  let h: Harness;
  let post: Awaited<ReturnType<typeof harnessOn>>['post'];
  beforeAll(async () => {
    proxy = await ReplyHoldingProxy.start(redis.url);
    ({ h, post } = await harnessOn(proxy.url));
  });
  afterAll(async () => {
    await h.stop();
    await proxy.stop();
  });
  afterEach(() => proxy.release());

  it('504 (it may be enqueued), not 503: and it was', async () => {
    const event = fallDetection('outcome');
    proxy.holdRepliesAfter(event.userUUID); // the marker is in the job's data: only the add carries it
    const res = await post(event);
    expect(proxy.holding).toBe(true);
    expect(res.status).toBe(504);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.body.message).toMatch(/^Event queue did not confirm the event in time; it may have been accepted/);
    proxy.release();
    expect(await jobsFor(h, event.userUUID)).toHaveLength(1);
  });

  it('the connection breaks after the add was sent: the outcome is found out (202), and there is one job', async () => {
    const event = fallDetection('outcome');
    proxy.cutAfter(event.userUUID);
    const res = await post(event);
    expect(res.status).toBe(202);
    expect((await jobsFor(h, event.userUUID)).map((job) => job.eventId)).toEqual([res.body.eventId]);
  });

  it('504 with an Idempotency-Key: the retry answers the same event, still one job', async () => {
    const event = fallDetection('outcome');
    const key = randomUUID();
    proxy.holdRepliesAfter(event.userUUID);
    expect((await post(event, key)).status).toBe(504);
    proxy.release();
    const retry = await post(event, key);
    expect(retry.status).toBe(202);
    const jobs = await eventually(async () => {
      const found = await jobsFor(h, event.userUUID);
      return found.length > 0 && found;
    });
    expect(jobs.map((job) => job.eventId)).toEqual([retry.body.eventId]);
  });
});
