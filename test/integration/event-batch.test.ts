import { randomUUID } from 'node:crypto';
import { EventValidationError, IdempotencyKeyReusedError, QueueQuotaExceededError, isEnqueued, type DeliveryJobData } from '@novee/shared';
import { startHarness, type ApiResponse, type Harness } from './support/harness';
import { fallDetection, vitalThreshold } from './support/fixtures';

type Result = { eventId?: string; replayed?: true; error?: { statusCode: number; error: string; message: string } };
type BatchBody = { results: Result[]; statusCode?: number; message?: string };

/** Every job of the project in the queue, whatever its state. */
async function jobsOf(h: Harness, projectId: string): Promise<DeliveryJobData[]> {
  const jobs = await h.producer.queue.getJobs(['prioritized', 'waiting', 'delayed', 'active', 'completed', 'failed']);
  return jobs.filter((job) => job?.data.projectId === projectId).map((job) => job.data);
}

describe('POST /events/batch', () => {
  let h: Harness;
  let pipeline: string;
  let member: string;
  beforeAll(async () => {
    // A rate limit above the batch size: the per-event 429 is tested below with its own limit.
    h = await startHarness({ workers: 1, env: { RATE_LIMIT_EVENTS_PER_SECOND: '2000' } });
    pipeline = await h.token('pipeline@clients', 'events:write:any');
    member = await h.token('auth0|member', 'events:write');
    await h.createProject('batch-a', ['auth0|member']);
    await h.createProject('batch-b', ['auth0|someone-else']);
    await h.createProject('batch-big', ['auth0|member']);
  });
  afterAll(() => h.stop());

  const post = (body: unknown, { token = pipeline, key }: { token?: string; key?: string } = {}) =>
    h.request<BatchBody>('POST', '/events/batch', { token, body, headers: key ? { 'idempotency-key': key } : {} });

  it('valid and invalid events together: one result per event in order, the invalid ones named by index, only valid ones enqueued', async () => {
    const bad = { ...fallDetection('batch-a'), data: { ...fallDetection('batch-a').data, happenedAt: 'yesterday' } };
    const events = [
      fallDetection('batch-a'),
      bad,
      vitalThreshold('batch-a'),
      'not an event',
      { ...fallDetection('batch-a'), webhookType: 'TEST' },
    ];
    const before = (await jobsOf(h, 'batch-a')).length;
    const res = await post({ events });
    expect(res.status).toBe(200);
    const { results } = res.body;
    expect(results).toHaveLength(5);
    expect(results[0]!.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(results[1]).toEqual({
      error: { statusCode: 400, error: 'Bad Request', message: 'events[1].data.happenedAt must be a valid date-time' },
    });
    expect(results[2]!.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(results[3]!.error).toMatchObject({ statusCode: 400, message: 'events[3] must be of type object' });
    expect(results[4]!.error!.statusCode).toBe(400);
    expect(results[4]!.error!.message).toMatch(/^events\[4\]\./);
    const jobs = await jobsOf(h, 'batch-a');
    expect(jobs.length).toBe(before + 2);
    expect(jobs.map((job) => job.eventId)).toEqual(expect.arrayContaining([results[0]!.eventId, results[2]!.eventId]));
    expect((await h.producer.queue.getJob(results[2]!.eventId!))?.data).toMatchObject({
      ...(events[2] as object),
      eventId: results[2]!.eventId,
    });
  });

  it('per event: unknown project 404, not a member 403 (events:write), with POST /events messages; the others pass', async () => {
    const res = await post(
      { events: [fallDetection('batch-a'), fallDetection('batch-nope'), fallDetection('batch-b')] },
      { token: member },
    );
    expect(res.status).toBe(200);
    expect(res.body.results[0]!.eventId).toBeDefined();
    expect(res.body.results[1]).toEqual({
      error: { statusCode: 404, error: 'Not Found', message: 'No project with id batch-nope was found' },
    });
    expect(res.body.results[2]).toEqual({
      error: { statusCode: 403, error: 'Forbidden', message: 'You are not a member of project batch-b' },
    });
    // events:write:any: any existing project.
    const any = await post({ events: [fallDetection('batch-b')] });
    expect(any.body.results[0]!.eventId).toBeDefined();
    expect((await jobsOf(h, 'batch-nope')).length).toBe(0);
  });

  it('an Idempotency-Key for the batch: the same batch again enqueues nothing twice and answers the same eventIds', async () => {
    const key = randomUUID();
    const events = [fallDetection('batch-a'), { projectId: 'batch-a' }, vitalThreshold('batch-a'), fallDetection('batch-b')];
    const before = (await jobsOf(h, 'batch-a')).length + (await jobsOf(h, 'batch-b')).length;
    const first = await post({ events }, { key });
    const again = await post({ events }, { key });
    expect(first.status).toBe(200);
    const ids = first.body.results.map((result) => result.eventId);
    expect(ids.filter(Boolean)).toHaveLength(3);
    expect(again.body.results.map((result) => result.eventId)).toEqual(ids);
    expect(again.body.results[0]).toEqual({ eventId: ids[0], replayed: true });
    expect(again.body.results[1]!.error!.statusCode).toBe(400);
    expect((await jobsOf(h, 'batch-a')).length + (await jobsOf(h, 'batch-b')).length).toBe(before + 3);
    // Event i is keyed `<key>:<i>`.
    expect(await h.redis.hget(`${h.config.queuePrefix}:idempotency:${key}:2`, 'eventId')).toBe(ids[2]);

    // The key with another event at one index: 422 for that event only; the others are replays.
    const changed = [...events];
    changed[2] = vitalThreshold('batch-a');
    const reused = await post({ events: changed }, { key });
    expect(reused.body.results[0]).toEqual({ eventId: ids[0], replayed: true });
    expect(reused.body.results[2]!.error).toMatchObject({
      statusCode: 422,
      message: `Idempotency-Key ${key}:2 was already used for a different event; use a new key for each event`,
    });
    expect((await jobsOf(h, 'batch-a')).length + (await jobsOf(h, 'batch-b')).length).toBe(before + 3);
  });

  it('500 events in one request (a body over the 256 kB of other routes) are taken; 501 are refused with 413', async () => {
    const events = Array.from({ length: 500 }, (_, i) => {
      const event = i % 2 ? vitalThreshold('batch-big') : fallDetection('batch-big');
      return { ...event, data: { ...event.data, firstName: 'A'.repeat(200), lastName: 'B'.repeat(200) } };
    });
    expect(JSON.stringify({ events }).length).toBeGreaterThan(256 * 1024);
    const res = await post({ events }, { token: member });
    expect(res.status).toBe(200);
    expect(res.body.results.filter((result) => result.eventId)).toHaveLength(500);
    expect(new Set(res.body.results.map((result) => result.eventId)).size).toBe(500);
    expect((await jobsOf(h, 'batch-big')).length).toBe(500);

    const tooMany = await post({ events: [...events, fallDetection('batch-big')] }, { token: member });
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.message).toBe('events holds 501 events; at most 500 are taken per request');
    expect((await jobsOf(h, 'batch-big')).length).toBe(500);
  });

  it('whole-request errors: the envelope (400 naming events), a bad key (400), no token (401), no scope (403)', async () => {
    const message = async (body: unknown, options?: { key?: string; token?: string }) => {
      const res = await post(body, options);
      return [res.status, res.body.message];
    };
    expect(await message({})).toEqual([400, 'events is required']);
    expect(await message({ events: {} })).toEqual([400, 'events must be of type array']);
    expect(await message({ events: [] })).toEqual([400, 'events must hold at least 1 event']);
    expect(await message({ events: [fallDetection('batch-a')], extra: 1 })).toEqual([400, 'extra is not an allowed field']);
    expect(await message([fallDetection('batch-a')])).toEqual([400, 'body must be of type object']);
    expect(await message({ events: [fallDetection('batch-a')] }, { key: 'not-a-uuid' })).toEqual([
      400,
      'Idempotency-Key header must be a UUID',
    ]);
    const noToken = await h.request('POST', '/events/batch', { body: { events: [fallDetection('batch-a')] } });
    expect(noToken.status).toBe(401);
    const noScope = await post({ events: [fallDetection('batch-a')] }, { token: await h.token('auth0|member') });
    expect(noScope).toMatchObject({
      status: 403,
      body: { message: 'This call needs a token with the scope events:write or events:write:any' },
    });
  });

  it('the events are delivered to the receiver (signed, with the eventIds the batch answered)', async () => {
    const { projectId, path } = await h.webhookProject('batch-hooks');
    const events = [fallDetection(projectId), vitalThreshold(projectId), fallDetection(projectId)];
    const res = await post({ events });
    const ids = res.body.results.map((result) => result.eventId);
    expect(ids.every(Boolean)).toBe(true);
    const received = await h.receiver.waitFor(3, { path });
    expect(received.map((hook) => hook.headers['x-event-id']).sort()).toEqual([...ids].sort());
    for (const hook of received) {
      const i = ids.indexOf(hook.headers['x-event-id'] as string);
      expect(JSON.parse(hook.rawBody)).toEqual(events[i]!.data);
    }
  });

  it('EventProducer.enqueueMany: per-event results in order (validation, key reuse), replays with the batch key', async () => {
    const key = `pipeline-batch-${randomUUID()}`;
    const events = [fallDetection('batch-a'), { projectId: 'batch-a' } as never, vitalThreshold('batch-a')];
    const first = await h.producer.enqueueMany(events, { idempotencyKey: key });
    expect(first[0]).toMatchObject({ lane: 'normal', replayed: false });
    expect((first[1] as { error: Error }).error).toBeInstanceOf(EventValidationError);
    expect(isEnqueued(first[2]!)).toBe(true);
    const again = await h.producer.enqueueMany(events, { idempotencyKey: key });
    expect(again[0]).toEqual({ ...first[0], replayed: true });
    expect(again[2]).toEqual({ ...first[2], lane: 'normal', replayed: true });

    // Per-event keys; one reused for another event: that one fails alone.
    const keys = [randomUUID(), `${key}:0`, undefined];
    const mixed = await h.producer.enqueueMany([fallDetection('batch-a'), fallDetection('batch-a'), fallDetection('batch-a')], {
      idempotencyKeys: keys,
    });
    expect(isEnqueued(mixed[0]!)).toBe(true);
    expect((mixed[1] as { error: Error }).error).toBeInstanceOf(IdempotencyKeyReusedError);
    expect(isEnqueued(mixed[2]!)).toBe(true);
    for (const result of [...first, ...mixed].filter(isEnqueued)) {
      expect(await h.producer.queue.getJob(result.eventId)).toBeDefined();
    }
  });
});

describe('POST /events/batch: per-project limits counted per event', () => {
  let h: Harness;
  let pipeline: string;
  beforeAll(async () => {
    h = await startHarness({
      workers: 0,
      env: { RATE_LIMIT_EVENTS_PER_SECOND: '3', PROJECT_MAX_QUEUED_EVENTS: '3', PROJECT_MAX_QUEUED_FALL_EVENTS: '4' },
    });
    pipeline = await h.token('pipeline@clients', 'events:write:any');
    for (const id of ['rate-a', 'rate-b', 'quota-a']) await h.createProject(id, ['auth0|member']);
  });
  afterAll(() => h.stop());

  const post = (events: unknown[]): Promise<ApiResponse<BatchBody>> =>
    h.request<BatchBody>('POST', '/events/batch', { token: pipeline, body: { events } });

  it("the rate limit: a project's first events within it pass, the rest are 429 with POST /events's message; other projects unaffected", async () => {
    const events = [...Array.from({ length: 5 }, () => fallDetection('rate-a')), fallDetection('rate-b')];
    const res = await post(events);
    expect(res.status).toBe(200);
    const statuses = res.body.results.map((result) => result.error?.statusCode ?? 'ok');
    expect(statuses).toEqual(['ok', 'ok', 'ok', 429, 429, 'ok']);
    expect(res.body.results[3]!.error!.message).toMatch(
      /^Rate limit exceeded for project rate-a: at most 3 requests per second; retry after \d+ s$/,
    );
    expect((await jobsOf(h, 'rate-a')).length).toBe(3);
  });

  it("the project's queued-events cap: 429 per event beyond it (FALL_DETECTION's cap is higher), nothing queued for those", async () => {
    // Filled to the cap for VITAL_THRESHOLD (3) by a pipeline's producer, which is not rate-limited.
    const filled = await h.producer.enqueueMany([vitalThreshold('quota-a'), vitalThreshold('quota-a'), vitalThreshold('quota-a')]);
    expect(filled.every(isEnqueued)).toBe(true);
    const res = await post([vitalThreshold('quota-a'), fallDetection('quota-a')]);
    const statuses = res.body.results.map((result) => result.error?.statusCode ?? 'ok');
    expect(statuses).toEqual([429, 'ok']);
    expect(res.body.results[0]!.error!.message).toContain('Project quota-a has 3 events queued, the limit for VITAL_THRESHOLD events is 3');
    expect((await jobsOf(h, 'quota-a')).length).toBe(4);
    // The producer reports the same error per event (FALL_DETECTION's cap, 4, is now reached too).
    const direct = await h.producer.enqueueMany([fallDetection('quota-a')]);
    expect((direct[0] as { error: Error }).error).toBeInstanceOf(QueueQuotaExceededError);
  });
});
