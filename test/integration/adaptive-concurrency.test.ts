import { createRedisConnection } from '@novee/shared';
import { endpointKey } from '../../apps/worker/src/isolation/endpoint-key';
import { EndpointState } from '../../apps/worker/src/isolation/endpoint-state';
import { eventually, startHarness, type Harness } from './support/harness';
import { fallDetection } from './support/fixtures';
import { deliveryLatencies, enqueueMany } from './support/load';
import { metric } from './support/prometheus';

// One worker, the defaults: an endpoint starts at ENDPOINT_INITIAL_IN_FLIGHT (4), ceiling ENDPOINT_MAX_IN_FLIGHT
// (100), and a worker keeps a fifth of its WORKER_CONCURRENCY (100) slots free of any one endpoint. The harness
// times deliveries out after 2 s. Asserts are on limits and counts, with generous bounds; no tight timing.
const INITIAL = 4;
let h: Harness;
let state: EndpointState;
const redis = createRedisConnection(process.env.REDIS_URL!, 'worker');
beforeAll(async () => {
  h = await startHarness({ workers: 1 });
  // Only to read the limits the worker keeps in Redis (same prefix and keys).
  state = new EndpointState(redis, h.config.queuePrefix, {
    maxInFlight: 100,
    initialInFlight: INITIAL,
    stuckAfterMs: 250,
    leaseMs: 4_000,
    failureThreshold: 5,
    cooldownMs: 2_000,
    maxCooldownMs: 20_000,
  });
});
afterAll(async () => {
  await h.stop();
  redis.disconnect();
});
afterEach(() => h.receiver.respondWith(() => ({ status: 200 })));

let n = 0;
/** A project whose webhook is on the loopback receiver at `/<projectId>` (as deliveryLatencies expects). */
async function project(name: string): Promise<{ projectId: string; path: string }> {
  const projectId = `${name}-${++n}`;
  await h.webhookProject(projectId, { types: ['FALL_DETECTION'], url: h.receiver.url(`/${projectId}`) });
  return { projectId, path: `/${projectId}` };
}
const limitOf = async (path: string) => (await state.limitOf(endpointKey(h.receiver.url(path))))?.limit ?? INITIAL;
const workerMetric = async (name: string, labels: Record<string, string> = {}) =>
  metric(await (await fetch(h.workers[0]!.metricsUrl)).text(), name, labels) ?? 0;
/** Sample a path's limit every 50 ms while `work` runs; returns the highest seen. */
async function highestLimitDuring(path: string, work: Promise<unknown>): Promise<number> {
  let highest = 0;
  let done = false;
  const sampling = (async () => {
    while (!done) {
      highest = Math.max(highest, await limitOf(path));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  try {
    await work;
  } finally {
    done = true;
    await sampling;
  }
  return Math.max(highest, await limitOf(path));
}
/** Deliver a backlog of `count` to a receiver answering 2xx at once, so that the endpoint's limit grows. */
async function grow(p: { projectId: string; path: string }, count: number): Promise<number> {
  const before = h.receiver.receivedOn(p.path).length;
  await enqueueMany(h, count, () => fallDetection(p.projectId));
  const highest = await highestLimitDuring(p.path, h.receiver.waitFor(before + count, { path: p.path, timeoutMs: 60_000 }));
  // Every answer has reached the limit (FINISH ran): what limitOf reads from here on is where it settled.
  await eventually(async () => (await state.limitOf(endpointKey(h.receiver.url(p.path))))?.inFlight === 0);
  return highest;
}

it('a fast receiver: the limit grows above the initial one, and its backlog drains faster than the initial cap allows', async () => {
  const p = await project('fast');
  const count = 600;
  const delayMs = 50;
  h.receiver.respondWith((hook) => ({ status: 200, delayMs: hook.path === p.path ? delayMs : 0 }));
  const highest = await grow(p, count);
  const hooks = h.receiver.receivedOn(p.path);
  const drainMs = hooks.at(-1)!.receivedAt - hooks[0]!.receivedAt;
  expect(highest).toBeGreaterThanOrEqual(4 * INITIAL);
  expect(h.receiver.maxOpen.get(p.path)).toBeGreaterThan(2 * INITIAL);
  // With the initial cap fixed, 600 answers of 50 ms, 4 at a time, take 7.5 s at the very least.
  const fixedCapMinimumMs = (count * delayMs) / INITIAL;
  expect(drainMs).toBeLessThan(0.8 * fixedCapMinimumMs);
  // Every delivery's end fed the limit (observed in the metrics once its FINISH returned).
  await eventually(async () => (await workerMetric('novee_endpoint_concurrency_limit_count')) >= count);
});

it('a receiver whose latency rises (1 ms -> 200 ms) gets its limit cut', async () => {
  const p = await project('slows');
  expect(await grow(p, 300)).toBeGreaterThan(INITIAL);
  const grown = await limitOf(p.path);
  const cutsBefore = await workerMetric('novee_endpoint_limit_cuts_total', { reason: 'latency' });
  h.receiver.respondWith((hook) => ({ status: 200, delayMs: hook.path === p.path ? 200 : 0 }));
  const before = h.receiver.receivedOn(p.path).length;
  await enqueueMany(h, 60, () => fallDetection(p.projectId));
  await eventually(async () => (await limitOf(p.path)) <= grown / 2, 20_000);
  await eventually(async () => (await workerMetric('novee_endpoint_limit_cuts_total', { reason: 'latency' })) > cutsBefore);
  await h.receiver.waitFor(before + 60, { path: p.path, timeoutMs: 60_000 });
});

it('5xx answers and timeouts cut the limit', async () => {
  const failing = await project('fails');
  const stalling = await project('stalls');
  expect(Math.min(await grow(failing, 300), await grow(stalling, 300))).toBeGreaterThan(INITIAL);
  const [grownFailing, grownStalling] = [await limitOf(failing.path), await limitOf(stalling.path)];
  const cutsBefore = await workerMetric('novee_endpoint_limit_cuts_total', { reason: 'overload' });
  // 500s at once; the other holds its answers past the 2 s timeout.
  h.receiver.respondWith((hook) =>
    hook.path === failing.path ? { status: 500 } : { status: 200, delayMs: hook.path === stalling.path ? 5_000 : 0 },
  );
  await enqueueMany(h, 20, () => fallDetection(failing.projectId));
  await enqueueMany(h, 20, () => fallDetection(stalling.projectId));
  await eventually(async () => (await limitOf(failing.path)) <= grownFailing / 2, 15_000);
  await eventually(async () => (await limitOf(stalling.path)) <= grownStalling / 2, 15_000);
  await eventually(async () => (await workerMetric('novee_endpoint_limit_cuts_total', { reason: 'overload' })) >= cutsBefore + 2);
});

it("a fast receiver that then hangs holds at most its limit's worth of a worker's slots, and other projects keep flowing", async () => {
  const hangs = await project('hangs');
  const calm = await project('calm');
  expect(await grow(hangs, 300)).toBeGreaterThan(INITIAL);
  const grown = await limitOf(hangs.path);
  h.receiver.maxOpen.delete(hangs.path); // from here on: how many of its deliveries hang at once
  h.receiver.respondWith((hook) => ({ status: 200, delayMs: hook.path === hangs.path ? 30_000 : 0 }));
  const before = h.receiver.receivedOn(hangs.path).length;
  await enqueueMany(h, 500, () => fallDetection(hangs.projectId));
  await h.receiver.waitFor(before + 1, { path: hangs.path });

  const latencies = await deliveryLatencies(h, calm.projectId, { count: 10, timeoutMs: 5_000, pauseMs: 200 });
  expect(Math.max(...latencies)).toBeLessThan(1_000);
  // With a backlog, an endpoint has its limit's worth in flight at any moment: those hang together. No more are
  // admitted (no slot frees, and once its oldest has run 250 ms it admits no more than its initial limit), and
  // never more than the worker's bound for one endpoint (80 of 100 slots); its backlog waits in the delayed set.
  // (These are falls: urgent events may take 2 slots beyond both bounds, see EndpointGuard's urgentHeadroom.)
  const hung = h.receiver.maxOpen.get(hangs.path)!;
  expect(hung).toBeLessThanOrEqual(Math.min(80, Math.ceil(grown)) + 2);
  expect(h.receiver.receivedOn(hangs.path).length - before).toBeLessThan(250);
  // The timeouts cut its limit.
  await eventually(async () => (await limitOf(hangs.path)) <= grown / 2, 15_000);
});
