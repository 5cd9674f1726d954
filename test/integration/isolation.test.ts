import { randomUUID } from 'node:crypto';
import { createRedisConnection, deliveriesCollection } from '@novee/shared';
import { CircuitBreaker } from '../../apps/worker/src/isolation/circuit-breaker';
import { EndpointGuard } from '../../apps/worker/src/isolation/endpoint-guard';
import { EndpointSlots } from '../../apps/worker/src/isolation/endpoint-slots';
import { eventually, startHarness, type Harness } from './support/harness';
import { fallDetection } from './support/fixtures';

describe('endpoint slots and circuit breaker (Redis-backed, shared by all workers)', () => {
  const redisA = createRedisConnection(process.env.REDIS_URL!, 'worker');
  const redisB = createRedisConnection(process.env.REDIS_URL!, 'worker');
  afterAll(() => {
    redisA.disconnect();
    redisB.disconnect();
  });

  it('caps in-flight deliveries per endpoint across processes, and an expired lease frees its slot', async () => {
    const prefix = `slots-${randomUUID()}`;
    const workerA = new EndpointSlots(redisA, prefix, 2, 300);
    const workerB = new EndpointSlots(redisB, prefix, 2, 300);
    const first = await workerA.acquire('ep');
    const second = await workerB.acquire('ep');
    expect(first && second).toBeTruthy();
    expect(await workerA.acquire('ep')).toBeNull();
    expect(await workerB.acquire('other-endpoint')).toBeTruthy();
    await workerA.release('ep', first!);
    const third = await workerB.acquire('ep');
    expect(third).toBeTruthy();
    expect(await workerA.acquire('ep')).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 350)); // leases of a crashed worker lapse
    expect(await workerA.acquire('ep')).toBeTruthy();
  });

  it('opens after N failures in a row, doubles the cooldown per trip, and a success closes it', async () => {
    const prefix = `cb-${randomUUID()}`;
    const breaker = new CircuitBreaker(redisA, prefix, { threshold: 3, cooldownMs: 1_000, maxCooldownMs: 1_500 });
    const other = new CircuitBreaker(redisB, prefix, { threshold: 3, cooldownMs: 1_000, maxCooldownMs: 1_500 });
    expect(await breaker.recordFailure('ep')).toBeNull();
    expect(await other.recordFailure('ep')).toBeNull();
    const before = Date.now();
    const openUntil = await breaker.recordFailure('ep');
    expect(openUntil! - before).toBeGreaterThanOrEqual(900);
    expect(openUntil! - before).toBeLessThanOrEqual(1_200);
    expect(await other.openUntil('ep')).toBe(openUntil);
    expect(await other.openUntil('ep', openUntil! + 1)).toBeNull();

    for (let i = 0; i < 2; i++) await breaker.recordFailure('ep');
    const second = await breaker.recordFailure('ep');
    expect(second! - Date.now()).toBeGreaterThan(1_200); // doubled (capped at 1.5 s)

    await breaker.recordSuccess('ep');
    expect(await breaker.openUntil('ep')).toBeNull();
  });
});

describe('EndpointGuard', () => {
  const redis = createRedisConnection(process.env.REDIS_URL!, 'worker');
  afterAll(() => redis.disconnect());

  it('a job finding the endpoint busy waits briefly for a slot (bounded waiters), the rest are delayed', async () => {
    const prefix = `guard-${randomUUID()}`;
    const breaker = new CircuitBreaker(redis, prefix, { threshold: 5, cooldownMs: 1_000, maxCooldownMs: 1_000 });
    const guard = new EndpointGuard(new EndpointSlots(redis, prefix, 1, 5_000), breaker, 1_000, 1, 250);
    const url = 'https://hooks.example.com/x';

    const first = await guard.admit(url);
    expect(first.admitted).toBe(true);
    const waiting = guard.admit(url); // waits for the slot
    const third = await guard.admit(url); // over the waiter bound: delayed at once
    expect(third).toMatchObject({ admitted: false, reason: 'endpoint busy' });
    const released = Date.now();
    if (first.admitted) await first.release();
    const second = await waiting;
    expect(second.admitted).toBe(true);
    expect(Date.now() - released).toBeLessThan(100); // woken by the release, not by polling the deadline

    const fourth = guard.admit(url);
    const refused = await fourth; // nobody releases within 250 ms
    expect(refused).toMatchObject({ admitted: false, reason: 'endpoint busy' });
    if (refused.admitted === false) expect(refused.retryAt).toBeGreaterThan(Date.now());
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

    for (let i = 0; i < 500; i += 50) {
      await Promise.all(Array.from({ length: 50 }, () => h.producer.enqueue(fallDetection('flood-a'))));
    }
    await h.receiver.waitFor(1, { path: '/flood-a' }); // A is now hanging

    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      const before = h.receiver.receivedOn('/flood-b').length;
      const sent = Date.now();
      await h.producer.enqueue(fallDetection('flood-b'));
      const hooks = await h.receiver.waitFor(before + 1, { path: '/flood-b', timeoutMs: 5_000 });
      latencies.push(hooks[before]!.receivedAt - sent);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(Math.max(...latencies)).toBeLessThan(1_000);

    // A's endpoint never had more than the cap in flight (default 10), and its circuit opened after the timeouts.
    expect(h.receiver.maxOpen.get('/flood-a')).toBeLessThanOrEqual(10);
    expect(h.receiver.receivedOn('/flood-a').length).toBeLessThan(30);
    await eventually(async () => (await deliveriesCollection(h.db).countDocuments({ projectId: 'flood-a', status: 'failed' })) >= 5, 15_000);
  });
});
