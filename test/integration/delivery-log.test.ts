import { expect } from '@jest/globals';
import { deliveriesCollection } from '@novee/shared';
import { eventually, startHarness, type Harness } from './support/harness';
import { fallDetection, vitalThreshold } from './support/fixtures';

let h: Harness;
let member: string;
let pipeline: string;
beforeAll(async () => {
  h = await startHarness({ workers: 1, env: { RETRY_SCHEDULE: 'none', DELIVERY_RETENTION_DAYS: '14' } });
  member = await h.token('auth0|member');
  pipeline = await h.token('pipeline@clients', 'events:write:any');
  await h.createProject('log', ['auth0|member']);
  await h.createProject('log-other', ['auth0|outsider']);
  await h.request('POST', '/webhooks/register', {
    token: member,
    body: { projectId: 'log', url: h.receiver.url('/log'), types: ['FALL_DETECTION', 'VITAL_THRESHOLD'] },
  });
});
afterAll(() => h.stop());

const list = (query = '') => h.request('GET', `/webhooks/project/log/deliveries${query}`, { token: member });

it('lists attempts newest first, filtered by status and type, a page at a time', async () => {
  h.receiver.respondWith((hook) => ({ status: hook.headers['x-event-type'] === 'VITAL_THRESHOLD' ? 500 : 200 }));
  const sent: string[] = [];
  for (let i = 0; i < 3; i++) {
    sent.push((await h.request('POST', '/events', { token: pipeline, body: fallDetection('log') })).body.eventId);
    await eventually(async () => (await deliveriesCollection(h.db).countDocuments({ eventId: sent.at(-1) })) === 1);
  }
  const vital = (await h.request('POST', '/events', { token: pipeline, body: vitalThreshold('log') })).body.eventId;
  await eventually(async () => (await deliveriesCollection(h.db).countDocuments({ eventId: vital })) === 1);

  const all = await list();
  expect(all.status).toBe(200);
  expect(all.body.items.map((item: { eventId: string }) => item.eventId)).toEqual([vital, ...sent.reverse()]);
  expect(all.body.items[0]).toMatchObject({
    id: expect.stringMatching(/^[0-9a-f]{24}$/),
    eventId: vital,
    webhookType: 'VITAL_THRESHOLD',
    attempt: 1,
    status: 'failed',
    statusCode: 500,
    final: true,
    urlHost: new URL(h.receiver.baseUrl).host,
    createdAt: expect.any(String),
  });
  expect(all.body.nextCursor).toBeNull();

  expect((await list('?status=failed')).body.items.map((i: { eventId: string }) => i.eventId)).toEqual([vital]);
  expect((await list('?type=FALL_DETECTION&status=delivered')).body.items).toHaveLength(3);

  const first = await list('?limit=2');
  expect(first.body.items).toHaveLength(2);
  const second = await list(`?limit=2&cursor=${first.body.nextCursor}`);
  expect(second.body.items).toHaveLength(2);
  expect(second.body.nextCursor).toBeNull();
  expect([...first.body.items, ...second.body.items].map((i: { id: string }) => i.id)).toEqual(
    all.body.items.map((i: { id: string }) => i.id),
  );
});

it('400 for bad query parameters, 403 and 404 like the other endpoints', async () => {
  for (const [query, message] of [
    ['?status=lost', 'query.status must be one of: delivered, failed, rejected'],
    ['?limit=500', 'query.limit must be <= 100'],
    ['?cursor=xyz', 'query.cursor must match pattern'],
    ['?sort=asc', 'query.sort is not an allowed field'],
  ]) {
    const res = await list(query);
    expect(res.status).toBe(400);
    expect(res.body.message).toContain(message);
  }
  const outsider = await h.token('auth0|outsider');
  expect((await h.request('GET', '/webhooks/project/log/deliveries', { token: outsider })).status).toBe(403);
  expect((await h.request('GET', '/webhooks/project/nope/deliveries', { token: member })).status).toBe(404);
});

it('redelivers an event on request, with the same X-Event-Id and the current data', async () => {
  h.receiver.respondWith(() => ({ status: 200 }));
  const event = fallDetection('log');
  const { eventId } = (await h.request('POST', '/events', { token: pipeline, body: event })).body;
  const [original] = await eventually(() => {
    const hooks = h.receiver.received.filter((hook) => hook.headers['x-event-id'] === eventId);
    return hooks.length ? hooks : null;
  });

  const res = await h.request('POST', `/webhooks/project/log/deliveries/${eventId}/redeliver`, { token: member });
  expect(res.status).toBe(202);
  expect(res.body).toEqual({ eventId, redeliveryId: expect.stringContaining(`${eventId}-redelivery-`) });
  const again = await eventually(() => {
    const hooks = h.receiver.received.filter((hook) => hook.headers['x-event-id'] === eventId);
    return hooks.length === 2 ? hooks[1] : null;
  });
  expect(again.rawBody).toBe(original!.rawBody);
  await eventually(() => deliveriesCollection(h.db).findOne({ eventId, redelivery: true, status: 'delivered' }));
});

it('redeliver: 404 for an event of another project or unknown, 403 for non-members', async () => {
  const outsider = await h.token('auth0|outsider');
  const { eventId } = (await h.request('POST', '/events', { token: pipeline, body: fallDetection('log') })).body;
  await eventually(() => deliveriesCollection(h.db).findOne({ eventId }));
  expect((await h.request('POST', `/webhooks/project/log/deliveries/${eventId}/redeliver`, { token: outsider })).status).toBe(403);
  const unknown = await h.request('POST', '/webhooks/project/log/deliveries/nope/redeliver', { token: member });
  expect(unknown.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'No delivery of event nope for project log' });

  // Past the queue's retention of the payload, redelivery is gone for good: 410.
  await (await h.producer.queue.getJob(eventId))!.remove();
  const gone = await h.request('POST', `/webhooks/project/log/deliveries/${eventId}/redeliver`, { token: member });
  expect(gone.body).toEqual({ statusCode: 410, error: 'Gone', message: `Event ${eventId} is no longer retained for redelivery` });
});

it('delivery records expire after the configured retention (TTL index)', async () => {
  const indexes = await deliveriesCollection(h.db).indexes();
  expect(indexes.find((index) => index.name === 'retention_ttl')).toMatchObject({ key: { createdAt: 1 }, expireAfterSeconds: 14 * 86_400 });
});
