import { bulkPriority, PRIORITY_BY_TYPE } from '@novee/shared';
import { startHarness, type Harness } from './support/harness';
import { metric } from './support/prometheus';
import { fallDetection } from './support/fixtures';
import { deliveryLatencies, enqueueMany } from './support/load';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ workers: 1, env: { PROJECT_BURST_PER_SECOND: '20' } });
  const member = await h.token('auth0|member');
  for (const id of ['burst-a', 'calm-b']) {
    await h.createProject(id, ['auth0|member']);
    await h.request('POST', '/webhooks/register', { token: member, body: { projectId: id, url: h.receiver.url(`/${id}`), types: ['FALL_DETECTION'] } });
  }
});
afterAll(() => h.stop());

it("a project's events beyond its per-second share go to the bulk lane, behind other projects' events", async () => {
  const pipeline = await h.token('pipeline@clients', 'events:write:any');
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) {
    const response = await h.request('POST', '/events', { token: pipeline, body: fallDetection('burst-a') });
    ids.push((response.body as { eventId: string }).eventId);
  }
  const priorities = await Promise.all(ids.map(async (id) => (await h.producer.queue.getJob(id))?.priority));
  const normal = priorities.filter((p) => p === PRIORITY_BY_TYPE.FALL_DETECTION).length;
  // 20 per second in the normal lane; the 30 may straddle two seconds, so up to 40 could have been.
  expect(normal).toBeGreaterThanOrEqual(20);
  expect(priorities.filter((p) => p === bulkPriority('FALL_DETECTION')).length).toBe(30 - normal);
  const api = await (await fetch(h.api.metricsUrl)).text();
  // The counter only exists once an event went to the bulk lane (none may have, if the 30 straddled two seconds).
  expect(metric(api, 'novee_events_enqueued_total', { type: 'FALL_DETECTION', lane: 'bulk' }) ?? 0).toBe(30 - normal);
  await h.receiver.waitFor(30, { path: '/burst-a' });
});

it("a healthy project's burst of 1,000 events does not hold up another project's events (each under 1 s)", async () => {
  // A's receiver is healthy but not instant: its backlog takes seconds to drain at the per-endpoint cap.
  h.receiver.respondWith((hook) => ({ status: 200, delayMs: hook.path === '/burst-a' ? 20 : 0 }));
  const before = h.receiver.receivedOn('/burst-a').length;
  await enqueueMany(h, 1_000, () => fallDetection('burst-a'));
  const latencies = await deliveryLatencies(h, 'calm-b', { count: 10, timeoutMs: 10_000 });
  // A was still draining while B's events went through.
  expect(h.receiver.receivedOn('/burst-a').length - before).toBeLessThan(1_000);
  expect(Math.max(...latencies)).toBeLessThan(1_000);
  await h.receiver.waitFor(before + 1_000, { path: '/burst-a', timeoutMs: 60_000 });
});
