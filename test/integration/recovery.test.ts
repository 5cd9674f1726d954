import { deliveriesCollection } from '@novee/shared';
import { eventually, startHarness, type Harness } from './support/harness';
import { fallDetection } from './support/fixtures';
import { metric } from './support/prometheus';

// RETRY_SCHEDULE=200ms,400ms (harness): an event fails for good about 0.6 s after its first failed attempt.
let h: Harness;
let member: string;
let pipeline: string;
beforeAll(async () => {
  h = await startHarness({ workers: 1, env: { CIRCUIT_FAILURE_THRESHOLD: '1000' } });
  member = await h.token('auth0|member');
  pipeline = await h.token('pipeline@clients', 'events:write:any');
});
afterAll(() => h.stop());
afterEach(() => h.receiver.respondWith(() => ({ status: 200 })));

let n = 0;
const project = () => h.webhookProject(`recover-${++n}`, { types: ['FALL_DETECTION'] });
const send = async (projectId: string): Promise<string> =>
  (await h.request('POST', '/events', { token: pipeline, body: fallDetection(projectId) })).body.eventId;
const attempts = (eventId: string) => deliveriesCollection(h.db).find({ eventId }).sort({ _id: 1 }).toArray();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('receiver down past the schedule, then back: recover since T re-sends exactly the failed events, once each', async () => {
  const p = await project();
  const before = await send(p.projectId);
  await eventually(async () => (await attempts(before)).some((a) => a.status === 'delivered'));
  const since = new Date().toISOString();

  h.receiver.respondWith((hook) => ({ status: hook.path === p.path ? 503 : 200 }));
  const failed = [await send(p.projectId), await send(p.projectId), await send(p.projectId)];
  for (const eventId of failed) await eventually(async () => (await attempts(eventId)).some((a) => a.final === true));
  h.receiver.respondWith(() => ({ status: 200 })); // the receiver is back
  const delivered = await send(p.projectId); // in the window, but delivered: not recovered
  await eventually(async () => (await attempts(delivered)).some((a) => a.status === 'delivered'));
  const sentBefore = h.receiver.receivedOn(p.path).length;

  const started = await h.request('POST', `/webhooks/project/${p.projectId}/recover`, { token: member, body: { since } });
  expect(started.status).toBe(202);
  const { recoveryId, count } = started.body as unknown as { recoveryId: string; count: number };
  expect(Object.keys(started.body).sort()).toEqual(['count', 'recoveryId']);
  expect(recoveryId).toMatch(/^[0-9a-f-]{36}$/);
  expect(count).toBe(3);

  const progress = await eventually(async () => {
    const res = await h.request('GET', `/webhooks/project/${p.projectId}/recoveries/${recoveryId}`, { token: member });
    return res.body.status === 'done' && res.body;
  });
  expect(progress).toMatchObject({ recoveryId, projectId: p.projectId, count: 3, delivered: 3, failed: 0, pending: 0, notQueued: 0 });
  await sleep(500); // nothing more arrives
  const resent = h.receiver.receivedOn(p.path).slice(sentBefore);
  expect(resent.map((hook) => hook.headers['x-event-id']).sort()).toEqual([...failed].sort());
  for (const eventId of failed) {
    const last = (await attempts(eventId)).at(-1)!;
    expect(last).toMatchObject({ status: 'delivered', recovery: recoveryId });
  }

  // Delivered now, so a second recovery of the same window has nothing to send.
  const again = await h.request('POST', `/webhooks/project/${p.projectId}/recover`, { token: member, body: { since } });
  expect(again.body).toMatchObject({ count: 0 });
  const metrics = await (await fetch(h.api.metricsUrl)).text();
  expect(metric(metrics, 'novee_recovered_events_total', { outcome: 'queued' })).toBeGreaterThanOrEqual(3);
});

it('types narrows the recovery; the window is bounded to the 7 days failed jobs are kept', async () => {
  const p = await project();
  const since = new Date(Date.now() - 1_000).toISOString();
  const onlyVitals = await h.request('POST', `/webhooks/project/${p.projectId}/recover`, {
    token: member,
    body: { since, types: ['VITAL_THRESHOLD'] },
  });
  expect(onlyVitals.status).toBe(202);
  expect(onlyVitals.body).toMatchObject({ count: 0 });
  const tooOld = new Date(Date.now() - 8 * 86_400_000).toISOString();
  const old = await h.request('POST', `/webhooks/project/${p.projectId}/recover`, { token: member, body: { since: tooOld } });
  expect(old.status).toBe(400);
  expect(old.body.message).toBe('since must be within the last 7 days (failed events are kept 7 days)');
  const backwards = await h.request('POST', `/webhooks/project/${p.projectId}/recover`, {
    token: member,
    body: { since, until: new Date(Date.now() - 60_000).toISOString() },
  });
  expect(backwards.status).toBe(400);
  expect((await h.request('POST', `/webhooks/project/${p.projectId}/recover`, { token: member, body: { since: 'monday' } })).status).toBe(
    400,
  );
});

it('membership: only members of the project may recover or read a recovery', async () => {
  const p = await project();
  const other = await project();
  const since = new Date(Date.now() - 60_000).toISOString();
  const outsider = await h.token('auth0|outsider');
  expect((await h.request('POST', `/webhooks/project/${p.projectId}/recover`, { body: { since } })).status).toBe(401);
  expect((await h.request('POST', `/webhooks/project/${p.projectId}/recover`, { token: outsider, body: { since } })).status).toBe(403);
  expect((await h.request('POST', '/webhooks/project/nope/recover', { token: member, body: { since } })).status).toBe(404);
  const started = await h.request('POST', `/webhooks/project/${p.projectId}/recover`, { token: member, body: { since } });
  const { recoveryId } = started.body as unknown as { recoveryId: string };
  expect((await h.request('GET', `/webhooks/project/${p.projectId}/recoveries/${recoveryId}`, { token: outsider })).status).toBe(403);
  // Another project's recovery id is not found through this project.
  expect((await h.request('GET', `/webhooks/project/${other.projectId}/recoveries/${recoveryId}`, { token: member })).status).toBe(404);
  expect((await h.request('GET', `/webhooks/project/${p.projectId}/recoveries/${recoveryId}`, { token: member })).status).toBe(200);
});

it('a disabled webhook must be re-enabled before recovering (409)', async () => {
  const p = await project();
  await h.request('PATCH', '/webhooks', { token: member, body: { projectId: p.projectId, enabled: false } });
  const res = await h.request('POST', `/webhooks/project/${p.projectId}/recover`, {
    token: member,
    body: { since: new Date(Date.now() - 60_000).toISOString() },
  });
  expect(res.status).toBe(409);
});
