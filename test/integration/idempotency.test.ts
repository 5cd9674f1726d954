import { randomUUID } from 'node:crypto';
import { IdempotencyStore, eventFingerprint, type DeliveryJobData } from '@novee/shared';
import { startHarness, type Harness } from './support/harness';
import { fallDetection } from './support/fixtures';

// No worker: every job the API adds stays in the queue, so the tests count exactly what was enqueued.
let h: Harness;
let pipeline: string;

beforeAll(async () => {
  h = await startHarness({ workers: 0, env: { IDEMPOTENCY_TTL: '36h' } });
  pipeline = await h.token('pipeline@clients', 'events:write:any');
  for (const id of ['idem-a', 'idem-b']) await h.createProject(id, ['auth0|member']);
});
afterAll(() => h.stop());

const post = (body: unknown, key?: string) =>
  h.request('POST', '/events', { token: pipeline, body, headers: key ? { 'idempotency-key': key } : {} });

/** Every job of the project still in the queue (nothing is processed in this file). */
async function jobsOf(projectId: string): Promise<DeliveryJobData[]> {
  const jobs = await h.producer.queue.getJobs(['prioritized', 'waiting', 'delayed', 'active', 'completed', 'failed']);
  return jobs.filter((job) => job?.data.projectId === projectId).map((job) => job.data);
}

const recordKey = (key: string) => `${h.config.queuePrefix}:idempotency:${key}`;

describe('Idempotency-Key on POST /events', () => {
  it('the same key and event: the same eventId (a fresh UUID, not the key), one job; the repeat says Idempotent-Replayed', async () => {
    const key = randomUUID();
    const event = fallDetection('idem-a');
    const before = (await jobsOf('idem-a')).length;
    const first = await post(event, key);
    const again = await post(event, key);
    expect(first.status).toBe(202);
    expect(first.body.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.body.eventId).not.toBe(key);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(again).toMatchObject({ status: 202, body: { eventId: first.body.eventId } });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await jobsOf('idem-a')).length).toBe(before + 1);
  });

  it('holds after the job is gone from the queue (independent of job retention), for IDEMPOTENCY_TTL', async () => {
    const key = randomUUID();
    const event = fallDetection('idem-a');
    const { eventId } = (await post(event, key)).body;
    // What removeOnComplete does to a delivered job under load (10,000 completed jobs kept): it is gone.
    await h.producer.queue.remove(eventId);
    expect(await h.producer.queue.getJob(eventId)).toBeUndefined();

    const again = await post(event, key);
    expect(again).toMatchObject({ status: 202, body: { eventId } });
    expect(await h.producer.queue.getJob(eventId)).toBeUndefined(); // not enqueued a second time

    const ttl = await h.redis.pttl(recordKey(key));
    expect(ttl).toBeGreaterThan(36 * 3_600_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(36 * 3_600_000);
    // README's capacity figure: one key's record is a few hundred bytes of Redis memory.
    const bytes = Number(await h.redis.call('MEMORY', 'USAGE', recordKey(key)));
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(400);
  });

  it("the same key for another project: 422, and that project's event sent without the key is enqueued", async () => {
    const key = randomUUID();
    const forA = fallDetection('idem-a');
    expect((await post(forA, key)).status).toBe(202);

    const forB = { ...forA, projectId: 'idem-b' };
    const reused = await post(forB, key);
    expect(reused.status).toBe(422);
    expect(reused.body).toEqual({
      statusCode: 422,
      error: 'Unprocessable Entity',
      message: `Idempotency-Key ${key} was already used for an event of another project; use a new key for each event`,
    });

    const withoutKey = await post(forB);
    expect(withoutKey.status).toBe(202);
    expect((await h.producer.queue.getJob(withoutKey.body.eventId))?.data).toMatchObject({ projectId: 'idem-b', userUUID: forB.userUUID });
  });

  it('the same key with a different event body: 422, nothing enqueued for it', async () => {
    const key = randomUUID();
    const event = fallDetection('idem-a');
    expect((await post(event, key)).status).toBe(202);
    const before = (await jobsOf('idem-a')).length;
    const changed = await post({ ...event, data: { ...event.data, reasons: ['something else'] } }, key);
    expect(changed.status).toBe(422);
    expect(changed.body.message).toBe(`Idempotency-Key ${key} was already used for a different event; use a new key for each event`);
    expect((await jobsOf('idem-a')).length).toBe(before);
  });

  it('the same event serialized with another key order is the same event', async () => {
    const key = randomUUID();
    const event = fallDetection('idem-a');
    const { eventId } = (await post(event, key)).body;
    const reordered = { data: { ...event.data }, webhookType: event.webhookType, userUUID: event.userUUID, projectId: event.projectId };
    expect(await post(reordered, key)).toMatchObject({ status: 202, body: { eventId } });
  });

  it('20 concurrent requests with one key: one eventId for all, exactly one job', async () => {
    const key = randomUUID();
    const event = fallDetection('idem-b');
    const responses = await Promise.all(Array.from({ length: 20 }, () => post(event, key)));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(202));
    const ids = new Set(responses.map((r) => r.body.eventId));
    expect(ids.size).toBe(1);
    const jobs = (await jobsOf('idem-b')).filter((job) => job.userUUID === event.userUUID);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.eventId).toBe([...ids][0]);
  });

  it('a key claimed by a request that died before adding its job: the retry enqueues that event under the claimed id', async () => {
    const key = randomUUID();
    const event = fallDetection('idem-a');
    // What an API process killed between "key stored" and "job added" leaves behind: a pending claim, no job.
    const store = new IdempotencyStore(() => h.producer.queue.client, h.config.queuePrefix);
    const claimedId = randomUUID();
    expect(await store.claim(key, event.projectId, eventFingerprint(event), claimedId)).toEqual({ state: 'new', eventId: claimedId });
    expect(await h.producer.queue.getJob(claimedId)).toBeUndefined();

    const retry = await post(event, key);
    expect(retry).toMatchObject({ status: 202, body: { eventId: claimedId } });
    expect((await h.producer.queue.getJob(claimedId))?.data).toMatchObject({ eventId: claimedId, userUUID: event.userUUID });
    expect(await (await h.producer.queue.client).hget(recordKey(key), 'state')).toBe('enqueued');
  });

  it('400 when the key is not a UUID', async () => {
    const res = await post(fallDetection('idem-a'), 'abc');
    expect(res).toMatchObject({ status: 400, body: { message: 'Idempotency-Key header must be a UUID' } });
  });
});

describe('EventProducer.enqueue with an idempotencyKey (pipelines writing to Redis directly)', () => {
  it('the same guarantees, in the same key space as the API', async () => {
    const key = `pipeline-run-42:${randomUUID()}`;
    const event = fallDetection('idem-b');
    const first = await h.producer.enqueue(event, { idempotencyKey: key });
    expect(first).toMatchObject({ replayed: false });
    await h.producer.queue.remove(first.eventId);
    expect(await h.producer.enqueue(event, { idempotencyKey: key })).toEqual({ eventId: first.eventId, lane: 'normal', replayed: true });
    await expect(h.producer.enqueue({ ...event, projectId: 'idem-a' }, { idempotencyKey: key })).rejects.toThrow('another project');
    await expect(h.producer.enqueue(event, { idempotencyKey: '' })).rejects.toThrow(
      'idempotencyKey must be 1-255 printable ASCII characters',
    );

    const viaApi = randomUUID();
    const { eventId } = (await post(event, viaApi)).body;
    expect(await h.producer.enqueue(event, { idempotencyKey: viaApi })).toMatchObject({ eventId, replayed: true });
  });
});
