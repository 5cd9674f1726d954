import { deliveriesCollection, verifyWebhook } from '@novee/shared';
import { eventually, startHarness, type Harness } from './support/harness';
import { fallDetection, vitalThreshold } from './support/fixtures';

// The harness runs with RETRY_SCHEDULE=200ms,400ms: three attempts in all.
let h: Harness;
let member: string;
let pipeline: string;
beforeAll(async () => {
  h = await startHarness({ workers: 1 });
  member = await h.token('auth0|member');
  pipeline = await h.token('pipeline@clients', 'events:write:any');
});
afterAll(() => h.stop());
afterEach(() => h.receiver.respondWith(() => ({ status: 200 })));

let n = 0;
const project = (types = ['FALL_DETECTION']) => h.webhookProject(`retry-${++n}`, { types });
const attempts = (eventId: string) => deliveriesCollection(h.db).find({ eventId }).sort({ attempt: 1 }).toArray();

it('retries a failing receiver with the same X-Event-Id until it answers 2xx', async () => {
  const p = await project();
  let calls = 0;
  h.receiver.respondWith((hook) => ({ status: hook.path === p.path && ++calls <= 2 ? 500 : 200 }));
  const { body } = await h.request('POST', '/events', { token: pipeline, body: fallDetection(p.projectId) });

  const hooks = await h.receiver.waitFor(3, { path: p.path });
  expect(hooks.map((hook) => hook.headers['x-event-id'])).toEqual([body.eventId, body.eventId, body.eventId]);
  for (const hook of hooks) expect(verifyWebhook(hook.rawBody, hook.headers, p.secret)).toBe(true);
  // The backoff is honoured: the retries come at least ~200 ms and ~400 ms (minus jitter) apart.
  expect(hooks[1]!.receivedAt - hooks[0]!.receivedAt).toBeGreaterThanOrEqual(150);
  expect(hooks[2]!.receivedAt - hooks[1]!.receivedAt).toBeGreaterThanOrEqual(300);

  await eventually(async () => (await attempts(body.eventId)).length === 3);
  expect((await attempts(body.eventId)).map((a) => [a.attempt, a.status, a.statusCode])).toEqual([
    [1, 'failed', 500],
    [2, 'failed', 500],
    [3, 'delivered', 200],
  ]);
});

it('records the last failure as final once the schedule is used up', async () => {
  const p = await project();
  h.receiver.respondWith((hook) => ({ status: hook.path === p.path ? 503 : 200 }));
  const { body } = await h.request('POST', '/events', { token: pipeline, body: fallDetection(p.projectId) });
  const job = await h.producer.queue.getJob(body.eventId);
  await eventually(async () => (await job!.getState()) === 'failed', 10_000);
  // Attempt records are written in batches (within ~50 ms), so they may trail the job's state.
  await eventually(async () => (await attempts(body.eventId)).length === 3);
  expect((await attempts(body.eventId)).map((a) => [a.attempt, a.status, a.final])).toEqual([
    [1, 'failed', false],
    [2, 'failed', false],
    [3, 'failed', true],
  ]);
});

it('never retries a rules error, nor a TEST event', async () => {
  const p = await project(['FALL_DETECTION']);
  h.receiver.respondWith((hook) => ({ status: hook.path === p.path ? 500 : 200 }));
  const { body } = await h.request('POST', '/events', { token: pipeline, body: vitalThreshold(p.projectId) });
  const test = await h.request('POST', `/webhooks/test/project/${p.projectId}`, { token: member });
  expect(test.body).toMatchObject({ delivered: false, statusCode: 500 });
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // longer than the whole retry schedule
  expect((await attempts(body.eventId)).map((a) => a.status)).toEqual(['rejected']);
  expect(await attempts(test.body.eventId)).toHaveLength(1);
  expect(h.receiver.receivedOn(p.path)).toHaveLength(1);
});
