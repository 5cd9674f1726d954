import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedisConnection, deliveriesCollection, sign } from '@novee/shared';
import { findFreePort, startMongoJavaServer, type LocalMongo } from '@novee/devkit';
import { AttemptJournal, INTERRUPTED_ERROR, type OutboxRecord } from '../../apps/worker/src/records/attempt-journal';
import { eventually, startHarness, type Harness } from './support/harness';
import { fallDetection } from './support/fixtures';

/** Records per (eventId, attempt, status): every count must be exactly one. */
async function recordCounts(h: Harness, projectId: string) {
  const records = await deliveriesCollection(h.db).find({ projectId }).toArray();
  const counts = new Map<string, number>();
  for (const r of records)
    counts.set(`${r.eventId}#${r.attempt}#${r.status}`, (counts.get(`${r.eventId}#${r.attempt}#${r.status}`) ?? 0) + 1);
  return { records, counts };
}

describe('delivery records survive a MongoDB outage; the outage uses up no attempts', () => {
  let h: Harness;
  let mongo: LocalMongo;
  let port: number;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'novee-mongo-'));
    port = await findFreePort();
    mongo = await startMongoJavaServer({ h2File: join(dataDir, 'db.mv.db'), port });
    h = await startHarness({ env: { MONGODB_URL: mongo.url, RETRY_SCHEDULE: '1s' } });
  }, 90_000);
  afterAll(async () => {
    await h.stop();
    await mongo.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('every attempt made while MongoDB is down is in `deliveries` exactly once after it is back', async () => {
    const known = await h.webhookProject('outage-known');
    const unchanged = await h.webhookProject('outage-changed');
    // Both registrations are in the worker's cache once it has delivered to them.
    for (const projectId of [known.projectId, unchanged.projectId]) await h.producer.enqueue(fallDetection(projectId));
    await h.receiver.waitFor(2);
    await eventually(async () => (await deliveriesCollection(h.db).countDocuments()) === 2);

    // MongoDB goes down. Then the second project's registration changes (as if PATCHed just before the outage):
    // its cached copy may no longer be used, and MongoDB cannot be asked.
    await mongo.stop();
    const redis = createRedisConnection(h.config.redisUrl, 'worker');
    await redis.set(`${h.config.queuePrefix}:registration:{outage-changed}:version`, 'changed-during-outage');
    redis.disconnect();

    const during = [];
    for (let i = 0; i < 40; i++) during.push((await h.producer.enqueue(fallDetection(known.projectId))).eventId);
    const waiting = [];
    for (let i = 0; i < 5; i++) waiting.push((await h.producer.enqueue(fallDetection(unchanged.projectId))).eventId);
    // An unchanged registration is served from memory: the known project's alerts are delivered meanwhile.
    await h.receiver.waitFor(40, { path: known.path, timeoutMs: 15_000 });
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // longer than the whole retry schedule (1 s)

    mongo = await startMongoJavaServer({ h2File: join(dataDir, 'db.mv.db'), port });
    // The waiting project's events are delivered once MongoDB answers, on their first attempt.
    await h.receiver.waitFor(5, { path: unchanged.path, timeoutMs: 30_000 });
    await eventually(async () => (await deliveriesCollection(h.db).countDocuments()) === 2 + 40 + 5, 30_000);

    const known_ = await recordCounts(h, known.projectId);
    for (const eventId of during) expect(known_.counts.get(`${eventId}#1#delivered`)).toBe(1);
    const changed = await recordCounts(h, unchanged.projectId);
    for (const eventId of waiting) expect(changed.counts.get(`${eventId}#1#delivered`)).toBe(1);
    expect(changed.records.filter((r) => r.status !== 'delivered')).toEqual([]);
    expect([...known_.counts.values(), ...changed.counts.values()].every((n) => n === 1)).toBe(true);
  }, 120_000);
});

describe('registration changes: no attempt starts with an old URL or secret once the API has answered', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.stop());

  it('PATCH url and rotate take effect on the very next delivery, with no announcement to rely on', async () => {
    const { projectId, path } = await h.webhookProject('fresh');
    const token = await h.token('auth0|member');
    await h.producer.enqueue(fallDetection(projectId));
    await h.receiver.waitFor(1, { path }); // cached by the worker now

    for (let round = 0; round < 5; round++) {
      const newPath = `/hooks/fresh-${round}`;
      const patched = await h.request('PATCH', '/webhooks', { token, body: { projectId, url: h.receiver.url(newPath) } });
      expect(patched.status).toBe(200);
      const rotated = await h.request('POST', `/webhooks/project/${projectId}/secret/rotate`, { token });
      expect(rotated.status).toBe(200);
      const { eventId } = await h.producer.enqueue(fallDetection(projectId));
      const [hook] = await h.receiver.waitFor(1, { path: newPath });
      expect(hook!.headers['x-event-id']).toBe(eventId);
      expect(hook!.headers['x-signature']).toBe(sign(rotated.body.secret, String(hook!.headers['x-timestamp']), hook!.rawBody));
    }
    // Nothing went to an old URL after its change.
    const stale = h.receiver.received.filter((r) => r.path !== path && !r.path.startsWith('/hooks/fresh-'));
    expect(stale).toEqual([]);
    expect(h.receiver.received.filter((r) => r.path === path)).toHaveLength(1);
  });
});

describe('AttemptJournal: an attempt cut short by a crash still gets exactly one record', () => {
  const redis = createRedisConnection(process.env.REDIS_URL!, 'worker');
  afterAll(() => redis.disconnect());
  const attempt = { eventId: 'e1', projectId: 'p', webhookType: 'FALL_DETECTION' as const, attempt: 1, urlHost: 'hooks.example.com' };
  const slot = { endpoint: 'ep', leaseId: 'lease-1' };
  const outbox = async (prefix: string) =>
    (await redis.xrange(`${prefix}:{deliveries}:outbox`, '-', '+')).map(([, fields]) => JSON.parse(fields[1]!) as OutboxRecord);

  it('a started mark without an outcome becomes one `failed` record, even with several sweepers at once', async () => {
    const prefix = `journal-${randomUUID()}`;
    const journal = new AttemptJournal(redis, prefix);
    await journal.started('job-1', attempt, slot);
    await journal.started('job-2', { ...attempt, eventId: 'e2' }, slot);
    await journal.append({ ...attempt, eventId: 'e2', status: 'delivered', statusCode: 200 }, 'job-2'); // finished normally

    expect(await journal.sweepInterrupted(60_000)).toBe(0); // too young to be called interrupted
    const swept = await Promise.all([journal.sweepInterrupted(0), journal.sweepInterrupted(0), journal.sweepInterrupted(0)]);
    expect(swept.reduce((a, b) => a + b, 0)).toBe(1);

    const entries = await outbox(prefix);
    expect(entries).toHaveLength(2);
    expect(entries.find((e) => e.eventId === 'e1')).toMatchObject({
      status: 'failed',
      error: INTERRUPTED_ERROR,
      attempt: 1,
      interrupted: true,
    });
    expect(entries.find((e) => e.eventId === 'e2')).toMatchObject({ status: 'delivered' });
    expect(await redis.hlen(`${prefix}:{deliveries}:started`)).toBe(0);
  });

  it('the worker taking a job over records the interrupted attempt at once and gets its slot back to free', async () => {
    const prefix = `journal-${randomUUID()}`;
    const journal = new AttemptJournal(redis, prefix);
    await journal.started('job-1', attempt, slot);
    const [first, second] = await Promise.all([journal.takeOver('job-1'), journal.takeOver('job-1')]);
    expect([first, second].filter(Boolean)).toEqual([slot]);
    expect(await journal.sweepInterrupted(0)).toBe(0);
    expect(await outbox(prefix)).toEqual([expect.objectContaining({ eventId: 'e1', interrupted: true })]);
    expect(await journal.takeOver('job-never-started')).toBeNull();
  });
});

describe('capacity (README: Capacity per million events)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ workers: 0 });
  });
  afterAll(() => h.stop());

  it('one queued FALL_DETECTION with its Idempotency-Key costs under 2.5 KB of Redis; one delivery record under 400 B of BSON', async () => {
    const key = '7f2c9b1e-4a3d-4f8e-9b6a-2d1c0e5f4a3b';
    const { eventId } = await h.producer.enqueue(fallDetection('capacity'), { idempotencyKey: key });
    const jobKey = `${h.config.queuePrefix}:webhook-deliveries:${eventId}`;
    const bytes =
      Number(await h.redis.call('MEMORY', 'USAGE', jobKey)) +
      Number(await h.redis.call('MEMORY', 'USAGE', `${h.config.queuePrefix}:idempotency:${key}`));
    expect(bytes).toBeGreaterThan(500); // it measured something real
    expect(bytes).toBeLessThan(2_500);
    const { BSON, ObjectId } = await import('mongodb');
    const record = {
      _id: new ObjectId(),
      eventId,
      projectId: 'capacity',
      webhookType: 'FALL_DETECTION',
      attempt: 1,
      status: 'delivered',
      urlHost: 'hooks.customer.example.com',
      statusCode: 200,
      durationMs: 12,
      createdAt: new Date(),
    };
    expect(BSON.calculateObjectSize(record)).toBeLessThan(400);
    console.info(`capacity: ${bytes} B of Redis per queued event, ${BSON.calculateObjectSize(record)} B per delivery record`);
  });

  it('a delivery record waiting in the Redis outbox (MongoDB down) costs under 500 B', async () => {
    const client = createRedisConnection(h.config.redisUrl, 'worker');
    const prefix = `outbox-${randomUUID()}`;
    const journal = new AttemptJournal(client, prefix);
    for (let i = 0; i < 1_000; i++) {
      await journal.append({
        eventId: randomUUID(),
        projectId: 'capacity',
        webhookType: 'FALL_DETECTION',
        attempt: 1,
        status: 'failed',
        urlHost: 'hooks.customer.example.com',
        statusCode: 503,
        error: 'receiver answered 503',
        durationMs: 12,
      });
    }
    const perRecord = Number(await client.call('MEMORY', 'USAGE', `${prefix}:{deliveries}:outbox`, 'SAMPLES', '0')) / 1_000;
    client.disconnect();
    expect(perRecord).toBeGreaterThan(100);
    expect(perRecord).toBeLessThan(500);
    console.info(`capacity: ${Math.round(perRecord)} B of Redis per delivery record waiting in the outbox`);
  });
});
