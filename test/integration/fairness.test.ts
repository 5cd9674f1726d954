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
    await h.request('POST', '/webhooks/register', {
      token: member,
      body: { projectId: id, url: h.receiver.url(`/${id}`), types: ['FALL_DETECTION'] },
    });
  }
});
afterAll(() => h.stop());

it("a project's events beyond its per-second share go to the bulk lane, behind other projects' events", async () => {
  const pipeline = await h.token('pipeline@clients', 'events:write:any');
  const lanes = { normal: PRIORITY_BY_TYPE.FALL_DETECTION, bulk: bulkPriority('FALL_DETECTION') };
  const jobs: Array<{ second: number; priority: number | undefined }> = [];
  // Bursts of 30 at once (at most 5, until one has gone beyond the share of 20). An event counts in the second
  // of its enqueuedAt, so whichever seconds a burst straddles, the lanes are exactly known per second.
  for (let burst = 0; burst < 5 && !jobs.some((job) => job.priority === lanes.bulk); burst++) {
    const responses = await Promise.all(
      Array.from({ length: 30 }, () => h.request('POST', '/events', { token: pipeline, body: fallDetection('burst-a') })),
    );
    for (const response of responses) {
      expect(response.status).toBe(202);
      const job = await h.producer.queue.getJob((response.body as { eventId: string }).eventId);
      jobs.push({ second: Math.floor(job!.data.enqueuedAt / 1000), priority: job!.priority });
    }
  }
  for (const second of new Set(jobs.map((job) => job.second))) {
    const inSecond = jobs.filter((job) => job.second === second);
    const normal = Math.min(inSecond.length, 20);
    expect(inSecond.filter((job) => job.priority === lanes.normal)).toHaveLength(normal);
    expect(inSecond.filter((job) => job.priority === lanes.bulk)).toHaveLength(inSecond.length - normal);
  }
  const bulk = jobs.filter((job) => job.priority === lanes.bulk).length;
  expect(bulk).toBeGreaterThan(0);
  const api = await (await fetch(h.api.metricsUrl)).text();
  expect(metric(api, 'novee_events_enqueued_total', { type: 'FALL_DETECTION', lane: 'bulk' })).toBe(bulk);
  await h.receiver.waitFor(jobs.length, { path: '/burst-a' });
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
