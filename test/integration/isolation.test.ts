import { randomUUID } from 'node:crypto';
import { createRedisConnection, bulkPriority, deliveriesCollection } from '@novee/shared';
import { EndpointGuard } from '../../apps/worker/src/isolation/endpoint-guard';
import { initialLimitState, nextLimit } from '../../apps/worker/src/isolation/concurrency-limit';
import { EndpointState, type AdmitResult, type LimitFeedback } from '../../apps/worker/src/isolation/endpoint-state';
import { eventually, startHarness, type Harness } from './support/harness';
import { fallDetection } from './support/fixtures';
import { deliveryLatencies, enqueueMany } from './support/load';

describe('endpoint state: in-flight limit and circuit breaker (Redis-backed, shared by all workers)', () => {
  const redisA = createRedisConnection(process.env.REDIS_URL!, 'worker');
  const redisB = createRedisConnection(process.env.REDIS_URL!, 'worker');
  afterAll(() => {
    redisA.disconnect();
    redisB.disconnect();
  });
  const options = {
    maxInFlight: 2,
    initialInFlight: 2,
    stuckAfterMs: 60_000,
    leaseMs: 300,
    failureThreshold: 3,
    cooldownMs: 1_000,
    maxCooldownMs: 1_500,
  };
  const leaseOf = (result: AdmitResult) => (result.status === 'admitted' ? result.leaseId : null);
  const admitted = (result: AdmitResult) => {
    if (result.status !== 'admitted') throw new Error(`expected admission, got ${result.status}`);
    return result;
  };

  it('caps in-flight deliveries per endpoint across processes, tells how old the oldest is, and an expired lease frees its slot', async () => {
    const prefix = `slots-${randomUUID()}`;
    const workerA = new EndpointState(redisA, prefix, options);
    const workerB = new EndpointState(redisB, prefix, options);
    const first = admitted(await workerA.admit('ep'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = leaseOf(await workerB.admit('ep'));
    expect(first.leaseId && second).toBeTruthy();
    const busy = await workerA.admit('ep');
    expect(busy.status).toBe('busy');
    if (busy.status === 'busy') expect(busy.oldestAgeMs).toBeGreaterThanOrEqual(45);
    expect(leaseOf(await workerB.admit('other-endpoint'))).toBeTruthy();
    await workerA.finish('ep', first.leaseId, true, first.generation);
    expect(leaseOf(await workerB.admit('ep'))).toBeTruthy();
    expect((await workerA.admit('ep')).status).toBe('busy');
    await new Promise((resolve) => setTimeout(resolve, 350)); // leases of a crashed worker lapse
    expect(leaseOf(await workerA.admit('ep'))).toBeTruthy();
  });

  /** Admit and finish one delivery with the given outcome; returns the circuit change. */
  const attempt = async (on: EndpointState, delivered: boolean) => {
    const admitted = await on.admit('ep');
    if (admitted.status !== 'admitted') throw new Error(`not admitted: ${admitted.status}`);
    return on.finish('ep', admitted.leaseId, delivered, admitted.generation);
  };
  const circuitOptions = { ...options, maxInFlight: 10, initialInFlight: 10, leaseMs: 5_000 };

  it('opens after N failures in a row (counted across processes); a success before that resets the count', async () => {
    const prefix = `cb-${randomUUID()}`;
    const state = new EndpointState(redisA, prefix, circuitOptions);
    const other = new EndpointState(redisB, prefix, circuitOptions);
    expect(await state.admit('ep')).toMatchObject({ status: 'admitted', circuitDirty: false });
    expect(await attempt(state, false)).toBeNull();
    expect(await other.admit('ep')).toMatchObject({ status: 'admitted', circuitDirty: true }); // a success must clear it
    expect(await attempt(other, true)).toBeNull(); // reset
    expect(await attempt(state, false)).toBeNull();
    expect(await attempt(other, false)).toBeNull();
    const before = Date.now();
    const opened = await attempt(state, false);
    expect(opened).toMatchObject({ change: 'opened' });
    const openUntil = opened?.change === 'opened' ? opened.openUntil : 0;
    expect(openUntil - before).toBeGreaterThanOrEqual(900);
    expect(openUntil - before).toBeLessThanOrEqual(1_200);
    expect(await other.admit('ep')).toEqual({ status: 'open', openUntil });
  });

  it('failures of deliveries already in flight when it opened neither trip it again nor double the cooldown', async () => {
    const state = new EndpointState(redisA, `cb-${randomUUID()}`, circuitOptions);
    const inFlight = await Promise.all(Array.from({ length: 6 }, () => state.admit('ep')));
    const finishes = [];
    for (const admitted of inFlight) {
      if (admitted.status !== 'admitted') throw new Error('not admitted');
      finishes.push(await state.finish('ep', admitted.leaseId, false, admitted.generation));
    }
    // The third failure opens it; the other three were admitted before that and say nothing new.
    expect(finishes.map((change) => change?.change ?? null)).toEqual([null, null, 'opened', null, null, null]);
  });

  it('after the cooldown lets exactly one probe through: its failure re-opens with a doubled cooldown, its success closes', async () => {
    const state = new EndpointState(redisA, `cb-${randomUUID()}`, { ...circuitOptions, cooldownMs: 300, maxCooldownMs: 1_000 });
    for (let i = 0; i < 2; i++) await attempt(state, false);
    const first = await attempt(state, false);
    expect(first).toMatchObject({ change: 'opened' });
    await new Promise((resolve) => setTimeout(resolve, 350));

    const probe = await state.admit('ep');
    expect(probe).toMatchObject({ status: 'admitted', probe: true });
    expect(await state.admit('ep')).toMatchObject({ status: 'probing' }); // one probe at a time
    if (probe.status !== 'admitted') throw new Error('no probe');
    const before = Date.now();
    const reopened = await state.finish('ep', probe.leaseId, false, probe.generation);
    expect(reopened).toMatchObject({ change: 'opened' });
    if (reopened?.change === 'opened') expect(reopened.openUntil - before).toBeGreaterThanOrEqual(550); // 2 x 300 ms

    await new Promise((resolve) => setTimeout(resolve, 650));
    const second = await state.admit('ep');
    expect(second).toMatchObject({ status: 'admitted', probe: true });
    if (second.status !== 'admitted') throw new Error('no probe');
    expect(await state.finish('ep', second.leaseId, true, second.generation)).toEqual({ change: 'closed' });
    expect(await state.admit('ep')).toMatchObject({ status: 'admitted', probe: false, circuitDirty: false });
    // Closed afresh: the count starts again from zero.
    expect(await attempt(state, false)).toBeNull();
  });

  it('can admit past an open circuit (an event past its retry window), without counting the outcome', async () => {
    const state = new EndpointState(redisA, `cb-${randomUUID()}`, circuitOptions);
    for (let i = 0; i < 3; i++) await attempt(state, false);
    expect(await state.admit('ep')).toMatchObject({ status: 'open' });
    const forced = await state.admit('ep', { ignoreCircuit: true });
    expect(forced).toMatchObject({ status: 'admitted', generation: -1 });
    if (forced.status !== 'admitted') throw new Error('not admitted');
    expect(await state.finish('ep', forced.leaseId, true, forced.generation)).toBeNull();
    expect(await state.admit('ep')).toMatchObject({ status: 'open' }); // still open: the probe decides
  });
});

describe('adaptive limit in Redis (the FINISH script) follows the rule of concurrency-limit.ts', () => {
  const redis = createRedisConnection(process.env.REDIS_URL!, 'worker');
  afterAll(() => redis.disconnect());
  const rule = { initial: 3, max: 24 };
  const options = {
    maxInFlight: rule.max,
    initialInFlight: rule.initial,
    stuckAfterMs: 60_000,
    leaseMs: 30_000,
    failureThreshold: 1_000,
    cooldownMs: 1_000,
    maxCooldownMs: 1_000,
  };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('on a sequence of outcomes (slow start, simultaneous failures, a latency rise, neutral answers) Lua and TS agree', async () => {
    const state = new EndpointState(redis, `limit-${randomUUID()}`, options);
    let expected = initialLimitState(rule);
    const compare = async () => {
      const actual = await state.limitOf('ep');
      expect(actual).toMatchObject({
        limit: expected.limit,
        baselineMs: expected.baselineMs,
        rttMs: expected.rttMs,
        slowStart: expected.slowStart,
      });
      expect(actual!.cutAt > 0).toBe(expected.cutAt > 0);
    };
    /** Fill the endpoint to its limit, then finish every delivery with `feedback` (in flight falls one by one). */
    const round = async (feedback: LimitFeedback) => {
      const leases: Array<{ leaseId: string; generation: number }> = [];
      for (;;) {
        const result = await state.admit('ep');
        if (result.status !== 'admitted') break;
        leases.push(result);
      }
      expect(leases.length).toBe(Math.floor(expected.limit));
      for (const [i, lease] of leases.entries()) {
        const nowMs = Date.now();
        await state.finish('ep', lease.leaseId, feedback.signal === 'ok', lease.generation, undefined, feedback);
        expected = nextLimit(expected, { ...feedback, inFlight: leases.length - i, nowMs }, rule).state;
        await compare();
      }
    };
    // Slow start, up to the ceiling (each round drains in flight from the limit to 1, so it grows by half per round).
    for (let i = 0; i < 12 && expected.limit < rule.max; i++) await round({ signal: 'ok', durationMs: 3 + (i % 3) });
    expect(expected.limit).toBe(24);
    // 24 at once (well within the 250 ms window, so the rule's verdicts cannot straddle its end): one cut, to 12.
    await round({ signal: 'overload', durationMs: 2_000 });
    expect(expected.limit).toBe(12);
    await sleep(300); // past the cut window
    await round({ signal: 'ok', durationMs: 4 }); // additive: +1/limit per answer while at least half is in use
    expect(expected.limit).toBeGreaterThan(12.4);
    expect(expected.limit).toBeLessThan(13.1);
    await round({ signal: 'ok', durationMs: 200 }); // latency rise: one cut
    expect(expected.limit).toBeLessThan(7);
    await sleep(450); // past the window (2 x the smoothed RTT)
    await round({ signal: 'none', durationMs: 0 }); // 4xx: nothing changes
    await round({ signal: 'ok', durationMs: 150 });
    await compare();
  });

  it('an endpoint whose oldest delivery has run far longer than usual admits no more than its initial limit', async () => {
    const state = new EndpointState(redis, `limit-${randomUUID()}`, { ...options, stuckAfterMs: 150 });
    // Grow the limit with fast answers.
    for (let round = 0; round < 4; round++) {
      const leases = [];
      for (let result = await state.admit('ep'); result.status === 'admitted'; result = await state.admit('ep')) leases.push(result);
      for (const lease of leases)
        await state.finish('ep', lease.leaseId, true, lease.generation, undefined, { signal: 'ok', durationMs: 2 });
    }
    expect((await state.limitOf('ep'))!.limit).toBeGreaterThan(10);
    const hanging = await state.admit('ep');
    expect(hanging.status).toBe('admitted');
    await sleep(200); // 8 x the 2 ms baseline is less than the floor (150 ms)
    const admitted = [];
    let refusal: AdmitResult | undefined;
    for (let i = 0; i < 30 && !refusal; i++) {
      const result = await state.admit('ep');
      if (result.status === 'admitted') admitted.push(result);
      else refusal = result;
    }
    expect(admitted.length + 1).toBe(3); // the initial limit, with the hanging one
    expect(refusal).toMatchObject({ status: 'busy', stuck: true });
  });
});

describe('EndpointGuard', () => {
  const redis = createRedisConnection(process.env.REDIS_URL!, 'worker');
  afterAll(() => redis.disconnect());
  const stateOptions = {
    maxInFlight: 1,
    initialInFlight: 1,
    stuckAfterMs: 250,
    leaseMs: 5_000,
    failureThreshold: 5,
    cooldownMs: 1_000,
    maxCooldownMs: 1_000,
  };

  it('a job finding the endpoint busy waits briefly for a slot (bounded: in flight + waiting), the rest are delayed', async () => {
    const guard = new EndpointGuard(new EndpointState(redis, `guard-${randomUUID()}`, stateOptions), { maxHeld: 2 });
    const url = 'https://hooks.example.com/x';

    const first = await guard.admit(url);
    expect(first.admitted).toBe(true);
    const waiting = guard.admit(url); // waits for the slot
    const third = await guard.admit(url); // over the waiter bound: delayed at once
    expect(third).toMatchObject({ admitted: false, reason: 'endpoint busy' });
    const released = Date.now();
    if (first.admitted) await first.finish(true);
    const second = await waiting;
    expect(second.admitted).toBe(true);
    expect(Date.now() - released).toBeLessThan(100); // handed the slot by the finish, not by polling the deadline

    const fourth = guard.admit(url);
    const refused = await fourth; // nobody finishes within 250 ms
    expect(refused).toMatchObject({ admitted: false, reason: 'endpoint busy' });
    if (refused.admitted === false) expect(refused.retryAt).toBeGreaterThan(Date.now());
  });

  it("a worker holds at most maxHeld of one endpoint's jobs (in flight or waiting), whatever its limit; others still pass", async () => {
    const state = new EndpointState(redis, `guard-${randomUUID()}`, { ...stateOptions, maxInFlight: 50, initialInFlight: 50 });
    const guard = new EndpointGuard(state, { maxHeld: 3 });
    const url = 'https://hooks.example.com/greedy';
    const held = await Promise.all([guard.admit(url), guard.admit(url), guard.admit(url)]);
    expect(held.every((admission) => admission.admitted)).toBe(true);
    expect(await guard.admit(url)).toMatchObject({ admitted: false, reason: 'endpoint busy' });
    expect((await guard.admit('https://hooks.example.com/other')).admitted).toBe(true);
    const [first] = held;
    if (first?.admitted) await first.finish(true, undefined, { signal: 'ok', durationMs: 1 });
    expect((await guard.admit(url)).admitted).toBe(true); // one finished: room for one more
  });

  it('nobody waits for an endpoint whose in-flight delivery has been running too long, and its jobs return after it times out', async () => {
    const options = { maxHeld: 5, deliveryTimeoutMs: 3_000, busyRetryMs: 200 };
    const guard = new EndpointGuard(new EndpointState(redis, `guard-${randomUUID()}`, { ...stateOptions, stuckAfterMs: 100 }), options);
    const url = 'https://hooks.example.com/hangs';
    expect((await guard.admit(url)).admitted).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 120));
    const asked = Date.now();
    const refused = await guard.admit(url);
    expect(refused).toMatchObject({ admitted: false, reason: 'endpoint busy' });
    expect(Date.now() - asked).toBeLessThan(50); // refused at once instead of waiting 250 ms
    // No slot frees before the stuck delivery's timeout (3 s after it started, 120 ms ago), so no retry before then.
    if (!refused.admitted) expect(refused.retryAt - asked).toBeGreaterThanOrEqual(3_000 - 150 + 100);
  });

  it('an urgent event (a fall) takes up to urgentHeadroom slots beyond the limit and maxHeld, but never at a hanging endpoint', async () => {
    const guard = new EndpointGuard(new EndpointState(redis, `guard-${randomUUID()}`, { ...stateOptions, stuckAfterMs: 60_000 }), {
      maxHeld: 1,
      urgentHeadroom: 2,
      maxWaitMs: 50,
    });
    const url = 'https://hooks.example.com/vitals-and-falls';
    expect((await guard.admit(url)).admitted).toBe(true); // a vital holds the endpoint's only slot
    const vital = await guard.admit(url); // another vital: maxHeld, delayed for about a second
    expect(vital).toMatchObject({ admitted: false, reason: 'endpoint busy' });
    if (!vital.admitted) expect(vital.retryAt - Date.now()).toBeGreaterThan(400);
    expect((await guard.admit(url, 0, { urgent: true })).admitted).toBe(true);
    expect((await guard.admit(url, 0, { urgent: true })).admitted).toBe(true);
    // Headroom used: a fall is turned away too, but back within tens of milliseconds (the endpoint is not hanging).
    const fall = await guard.admit(url, 0, { urgent: true });
    expect(fall).toMatchObject({ admitted: false, reason: 'endpoint busy' });
    if (!fall.admitted) expect(fall.retryAt - Date.now()).toBeLessThan(100);

    const hanging = new EndpointGuard(new EndpointState(redis, `guard-${randomUUID()}`, { ...stateOptions, stuckAfterMs: 50 }), {
      urgentHeadroom: 2,
    });
    expect((await hanging.admit(url)).admitted).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 80)); // its delivery has run too long: the endpoint hangs
    const atHanging = await hanging.admit(url, 0, { urgent: true });
    expect(atHanging).toMatchObject({ admitted: false, reason: 'endpoint busy' });
    // Not back before the hanging delivery can have timed out (5 s): a hanging endpoint's falls do not churn.
    if (!atHanging.admitted) expect(atHanging.retryAt - Date.now()).toBeGreaterThan(4_000);
  });

  it('in a waiting room an urgent job is handed a slot before the jobs that were waiting longer', async () => {
    const guard = new EndpointGuard(new EndpointState(redis, `guard-${randomUUID()}`, { ...stateOptions, stuckAfterMs: 60_000 }), {
      maxHeld: 10,
      urgentHeadroom: 0, // no headroom here: the fall has to wait, and waits first in line
      maxWaitMs: 5_000,
    });
    const url = 'https://hooks.example.com/queue';
    const first = await guard.admit(url);
    const admitted: Array<{ name: string; admission: Awaited<ReturnType<EndpointGuard['admit']>> }> = [];
    const wait = (name: string, urgent = false) =>
      void guard.admit(url, 0, { urgent }).then((admission) => admitted.push({ name, admission }));
    for (const name of ['vital-1', 'vital-2', 'vital-3']) {
      wait(name);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    wait('fall', true);
    await new Promise((resolve) => setTimeout(resolve, 5));
    // One slot: each holder finishes in turn and hands it over to the first in line.
    let holder = first;
    for (let served = 0; served < 4; served++) {
      if (holder.admitted) await holder.finish(true);
      await eventually(() => admitted.length > served || null, 3_000);
      holder = admitted[served]!.admission;
      expect(holder.admitted).toBe(true);
    }
    // First in line, however long the others had waited. (A waiter polls Redis every 25 ms and is out of line
    // for that round trip: a handover landing just then goes to the next one, so the fall may come second.)
    expect(admitted.map((a) => a.name).indexOf('fall')).toBeLessThanOrEqual(1);
    expect(admitted.map((a) => a.name).sort()).toEqual(['fall', 'vital-1', 'vital-2', 'vital-3']);
    if (holder.admitted) await holder.finish(true);
  });

  it('a failure is never handed to a waiting job: it frees the slot in Redis and the waiter sees the open circuit', async () => {
    const guard = new EndpointGuard(new EndpointState(redis, `guard-${randomUUID()}`, { ...stateOptions, failureThreshold: 1 }), {
      maxHeld: 2,
    });
    const url = 'https://hooks.example.com/fails';
    const first = await guard.admit(url);
    const waiting = guard.admit(url);
    await new Promise((resolve) => setTimeout(resolve, 10));
    if (first.admitted) expect(await first.finish(false)).toMatchObject({ change: 'opened' });
    expect(await waiting).toMatchObject({ admitted: false, reason: 'circuit open' });
  });
});

describe('isolation under a flood', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ workers: 1, env: { CIRCUIT_COOLDOWN_MS: '5000' } });
  });
  afterAll(() => h.stop());

  it("project A's receiver hangs past the timeout with 500 queued events; project B's events are delivered within 1 s each", async () => {
    const member = await h.token('auth0|member');
    for (const id of ['flood-a', 'flood-b']) {
      await h.createProject(id, ['auth0|member']);
      await h.request('POST', '/webhooks/register', {
        token: member,
        body: { projectId: id, url: h.receiver.url(`/${id}`), types: ['FALL_DETECTION'] },
      });
    }
    h.receiver.respondWith((hook) => ({ status: 200, delayMs: hook.path === '/flood-a' ? 30_000 : 0 }));

    await enqueueMany(h, 500, () => fallDetection('flood-a'));
    await h.receiver.waitFor(1, { path: '/flood-a' }); // A is now hanging

    const latencies = await deliveryLatencies(h, 'flood-b', { count: 10, timeoutMs: 5_000, pauseMs: 200 });
    expect(Math.max(...latencies)).toBeLessThan(1_000);

    // A's turned-away jobs (never attempted: not retries) wait in the delayed set, demoted behind fresh events.
    const delayedA = (await h.producer.queue.getDelayed(0, 100)).filter(
      (job) => job.data.projectId === 'flood-a' && job.attemptsMade === 0,
    );
    expect(delayedA.length).toBeGreaterThan(0);
    expect(delayedA.map((job) => job.priority)).toEqual(delayedA.map(() => bulkPriority('FALL_DETECTION')));

    // A's endpoint never had more than its initial limit in flight (ENDPOINT_INITIAL_IN_FLIGHT, 4: it never
    // answered, so its limit never grew, and a hanging endpoint admits no more), plus the 2 slots of headroom falls
    // have beyond the limit before the endpoint counts as hanging; and its circuit opened after the timeouts.
    expect(h.receiver.maxOpen.get('/flood-a')).toBeLessThanOrEqual(4 + 2);
    expect(h.receiver.receivedOn('/flood-a').length).toBeLessThan(30);
    await eventually(
      async () => (await deliveriesCollection(h.db).countDocuments({ projectId: 'flood-a', status: 'failed' })) >= 5,
      15_000,
    );
  });
});
