import { deliveriesCollection } from '@novee/shared';
import { eventually, startHarness, type Harness } from './support/harness';
import { fallDetection } from './support/fixtures';

// RETRY_SCHEDULE=200ms,400ms (harness): without a Retry-After the next attempt would come within ~0.5 s.
// One failure opens a circuit here, so a 429/503 that counted as a failure would show.
let h: Harness;
let pipeline: string;
beforeAll(async () => {
  h = await startHarness({ workers: 1, env: { RETRY_AFTER_MAX_MS: '3000', CIRCUIT_FAILURE_THRESHOLD: '1' } });
  pipeline = await h.token('pipeline@clients', 'events:write:any');
});
afterAll(() => h.stop());
afterEach(() => h.receiver.respondWith(() => ({ status: 200 })));

let n = 0;
const project = () => h.webhookProject(`signals-${++n}`, { types: ['FALL_DETECTION'] });
const attempts = (eventId: string) => deliveriesCollection(h.db).find({ eventId }).sort({ attempt: 1 }).toArray();
const send = async (projectId: string) =>
  (await h.request('POST', '/events', { token: pipeline, body: fallDetection(projectId) })).body.eventId;
const circuitStates = async () => {
  const keys = await h.redis.keys(`${h.config.queuePrefix}:endpoint:*:circuit`);
  return Promise.all(keys.map((key) => h.redis.hgetall(key)));
};

it('a 429 with Retry-After in seconds delays the endpoint, and is recorded failed but not as a circuit failure', async () => {
  const p = await project();
  let calls = 0;
  h.receiver.respondWith((hook) =>
    hook.path === p.path && ++calls === 1 ? { status: 429, headers: { 'Retry-After': '2' } } : { status: 200 },
  );
  const first = await send(p.projectId);
  await h.receiver.waitFor(1, { path: p.path });
  // Another event for the same endpoint, sent during the pause, waits for it too.
  const second = await send(p.projectId);

  const hooks = await h.receiver.waitFor(3, { path: p.path, timeoutMs: 15_000 });
  const asked = hooks[0]!.receivedAt;
  for (const hook of hooks.slice(1)) {
    expect(hook.receivedAt - asked).toBeGreaterThanOrEqual(1_900);
    expect(hook.receivedAt - asked).toBeLessThan(8_000);
  }
  await eventually(async () => (await attempts(first)).length === 2 && (await attempts(second)).length === 1);
  expect((await attempts(first)).map((a) => [a.attempt, a.status, a.statusCode])).toEqual([
    [1, 'failed', 429],
    [2, 'delivered', 200],
  ]);
  expect((await attempts(second)).map((a) => a.status)).toEqual(['delivered']);
  for (const state of await circuitStates()) expect(Number(state.trips ?? 0)).toBe(0);
});

it('a 503 with Retry-After as an HTTP date is honoured', async () => {
  const p = await project();
  let calls = 0;
  h.receiver.respondWith((hook) =>
    hook.path === p.path && ++calls === 1
      ? { status: 503, headers: { 'Retry-After': new Date(Date.now() + 3_000).toUTCString() } }
      : { status: 200 },
  );
  const eventId = await send(p.projectId);
  const hooks = await h.receiver.waitFor(2, { path: p.path, timeoutMs: 15_000 });
  // The date has whole seconds: 2-3 s after the answer.
  expect(hooks[1]!.receivedAt - hooks[0]!.receivedAt).toBeGreaterThanOrEqual(1_900);
  expect(hooks[1]!.receivedAt - hooks[0]!.receivedAt).toBeLessThan(8_000);
  await eventually(async () => (await attempts(eventId)).length === 2);
  expect((await attempts(eventId)).map((a) => [a.status, a.statusCode])).toEqual([
    ['failed', 503],
    ['delivered', 200],
  ]);
});

it('a Retry-After longer than RETRY_AFTER_MAX_MS waits only the maximum', async () => {
  const p = await project();
  let calls = 0;
  h.receiver.respondWith((hook) =>
    hook.path === p.path && ++calls === 1 ? { status: 429, headers: { 'Retry-After': '3600' } } : { status: 200 },
  );
  await send(p.projectId);
  const hooks = await h.receiver.waitFor(2, { path: p.path, timeoutMs: 15_000 });
  expect(hooks[1]!.receivedAt - hooks[0]!.receivedAt).toBeGreaterThanOrEqual(2_900);
  expect(hooks[1]!.receivedAt - hooks[0]!.receivedAt).toBeLessThan(9_000);
});

it('a 500 with Retry-After is an ordinary failure (the schedule decides, the circuit counts it)', async () => {
  const p = await project();
  let calls = 0;
  h.receiver.respondWith((hook) =>
    hook.path === p.path && ++calls === 1 ? { status: 500, headers: { 'Retry-After': '30' } } : { status: 200 },
  );
  await send(p.projectId);
  const hooks = await h.receiver.waitFor(2, { path: p.path, timeoutMs: 15_000 });
  // The circuit (opened by this one failure) holds it CIRCUIT_COOLDOWN_MS (2 s) plus jitter, not 30 s.
  expect(hooks[1]!.receivedAt - hooks[0]!.receivedAt).toBeLessThan(6_000);
});

it('410 Gone stops retrying the event: one attempt, recorded as the final failure', async () => {
  const p = await project();
  h.receiver.respondWith((hook) => ({ status: hook.path === p.path ? 410 : 200 }));
  const eventId = await send(p.projectId);
  const job = await h.producer.queue.getJob(eventId);
  await eventually(async () => (await job!.getState()) === 'failed');
  await eventually(async () => (await attempts(eventId)).length === 1);
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // longer than the whole retry schedule
  expect((await attempts(eventId)).map((a) => [a.attempt, a.status, a.statusCode, a.final])).toEqual([[1, 'failed', 410, true]]);
  expect(h.receiver.receivedOn(p.path)).toHaveLength(1);
});
