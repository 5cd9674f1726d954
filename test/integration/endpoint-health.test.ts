import { deliveriesCollection } from '@novee/shared';
import { eventually, startHarness, type Harness } from './support/harness';
import { fallDetection } from './support/fixtures';

// ENDPOINT_DISABLE_AFTER=2s here (5 days by default); RETRY_SCHEDULE=200ms,400ms (harness).
let h: Harness;
let member: string;
let pipeline: string;
beforeAll(async () => {
  h = await startHarness({ workers: 1, env: { ENDPOINT_DISABLE_AFTER: '2s' } });
  member = await h.token('auth0|member');
  pipeline = await h.token('pipeline@clients', 'events:write:any');
});
afterAll(() => h.stop());
afterEach(() => h.receiver.respondWith(() => ({ status: 200 })));

let n = 0;
const project = () => h.webhookProject(`health-${++n}`, { types: ['FALL_DETECTION'] });
const attempts = (eventId: string) => deliveriesCollection(h.db).find({ eventId }).sort({ attempt: 1 }).toArray();
const send = async (projectId: string): Promise<string> =>
  (await h.request('POST', '/events', { token: pipeline, body: fallDetection(projectId) })).body.eventId;
const registration = async (projectId: string) => (await h.request('GET', `/webhooks/project/${projectId}`, { token: member })).body;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('a healthy registration shows status enabled, no reason, not failing', async () => {
  const p = await project();
  expect(await registration(p.projectId)).toMatchObject({ status: 'enabled', disabledReason: null, failingSince: null });
});

it('failingSince is set by a failure and cleared by the next success', async () => {
  const p = await project();
  let failing = true;
  h.receiver.respondWith((hook) => ({ status: hook.path === p.path && failing ? 500 : 200 }));
  const before = Date.now();
  await send(p.projectId);
  const failingSince = await eventually(async () => (await registration(p.projectId)).failingSince as string | null);
  expect(Date.parse(failingSince)).toBeGreaterThanOrEqual(before - 1_000);
  expect(Date.parse(failingSince)).toBeLessThanOrEqual(Date.now());
  failing = false;
  const eventId = await send(p.projectId);
  await eventually(async () => (await attempts(eventId)).some((a) => a.status === 'delivered'), 15_000);
  await eventually(async () => (await registration(p.projectId)).failingSince === null);
  expect((await registration(p.projectId)).status).toBe('enabled');
});

it('failing for ENDPOINT_DISABLE_AFTER disables the endpoint; nothing is sent while disabled; PATCH enabled: true re-enables', async () => {
  const p = await project();
  h.receiver.respondWith((hook) => ({ status: hook.path === p.path ? 500 : 200 }));
  // Events keep coming while the receiver is down (bounded: at most 40 over about 20 s).
  const started = Date.now();
  for (let i = 0; i < 40 && (await registration(p.projectId)).status !== 'disabled'; i++) {
    await send(p.projectId);
    await sleep(500);
  }
  const disabled = await registration(p.projectId);
  expect(disabled).toMatchObject({ status: 'disabled' });
  expect(disabled.disabledReason).toMatch(/^failing continuously since \d{4}-\d\d-\d\dT/);
  expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);

  // Disabled: a new event is recorded as a final failure, "endpoint disabled", and the receiver gets nothing.
  await sleep(300); // any attempt already in flight when it was disabled has ended
  const sentBefore = h.receiver.receivedOn(p.path).length;
  const whileDisabled = await send(p.projectId);
  await eventually(async () => (await attempts(whileDisabled)).length === 1);
  expect((await attempts(whileDisabled)).map((a) => [a.status, a.error, a.final])).toEqual([['failed', 'endpoint disabled', true]]);
  expect(await (await h.producer.queue.getJob(whileDisabled))!.getState()).toBe('failed');
  await sleep(700); // longer than the retry schedule: still nothing sent
  expect(h.receiver.receivedOn(p.path)).toHaveLength(sentBefore);

  // Re-enabled (by a member only), with a fresh failure streak: the receiver is back and gets the next event.
  const outsider = await h.token('auth0|outsider');
  expect((await h.request('PATCH', '/webhooks', { token: outsider, body: { projectId: p.projectId, enabled: true } })).status).toBe(403);
  h.receiver.respondWith(() => ({ status: 200 }));
  const enabled = await h.request('PATCH', '/webhooks', { token: member, body: { projectId: p.projectId, enabled: true } });
  expect(enabled.status).toBe(200);
  expect(enabled.body).toMatchObject({ status: 'enabled', disabledReason: null, failingSince: null });
  const afterwards = await send(p.projectId);
  await eventually(async () => (await attempts(afterwards)).some((a) => a.status === 'delivered'));
  expect(await registration(p.projectId)).toMatchObject({ status: 'enabled', failingSince: null });
});

it('410 Gone disables the endpoint at once, with reason "receiver answered 410"', async () => {
  const p = await project();
  h.receiver.respondWith((hook) => ({ status: hook.path === p.path ? 410 : 200 }));
  const gone = await send(p.projectId);
  await eventually(async () => (await registration(p.projectId)).status === 'disabled');
  expect(await registration(p.projectId)).toMatchObject({ status: 'disabled', disabledReason: 'receiver answered 410' });
  expect((await attempts(gone)).map((a) => [a.status, a.statusCode, a.final])).toEqual([['failed', 410, true]]);

  const next = await send(p.projectId);
  await eventually(async () => (await attempts(next)).length === 1);
  expect((await attempts(next))[0]).toMatchObject({ status: 'failed', error: 'endpoint disabled', final: true });
  expect(h.receiver.receivedOn(p.path)).toHaveLength(1);
});

it('a member can disable the endpoint by hand (PATCH enabled: false)', async () => {
  const p = await project();
  const res = await h.request('PATCH', '/webhooks', { token: member, body: { projectId: p.projectId, enabled: false } });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ status: 'disabled', disabledReason: 'disabled by a project member' });
  const eventId = await send(p.projectId);
  await eventually(async () => (await attempts(eventId)).length === 1);
  expect((await attempts(eventId))[0]).toMatchObject({ status: 'failed', error: 'endpoint disabled', final: true });
  expect(h.receiver.receivedOn(p.path)).toHaveLength(0);
  const wrongType = await h.request('PATCH', '/webhooks', { token: member, body: { projectId: p.projectId, enabled: 'yes' } });
  expect(wrongType.status).toBe(400);
});
