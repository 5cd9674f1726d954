import { expect } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { deliveriesCollection, sign, verifyWebhook, type DeliveryRecord } from '@novee/shared';
import { eventually, startHarness, type ApiBody, type Harness } from './support/harness';
import { fallDetection, vitalThreshold } from './support/fixtures';

let h: Harness;
let member: string;
let pipeline: string;

beforeAll(async () => {
  h = await startHarness({ workers: 1 });
  member = await h.token('auth0|member');
  pipeline = await h.token('pipeline@clients', 'events:write:any');
});
afterAll(() => h.stop());

let projectCounter = 0;
const projectWithWebhook = (types?: string[], url?: string) => h.webhookProject(`proj-${++projectCounter}`, { types, url });

const postEvent = (event: unknown, token = pipeline) => h.request('POST', '/events', { token, body: event });
const attempts = (eventId: string) =>
  deliveriesCollection(h.db)
    .find({ eventId }, { projection: { _id: 0 } })
    .sort({ attempt: 1 })
    .toArray();
const recorded = (eventId: string, status: DeliveryRecord['status']) =>
  eventually(async () => (await attempts(eventId)).find((a) => a.status === status));

/** The receiver from the public docs, in Node: verifies over JSON.stringify(req.body); also keeps the raw body. */
async function startDocsReceiver(secret: () => string) {
  const results: Array<{ docsOk: boolean; rawOk: boolean; body: unknown; raw: string }> = [];
  const app = express();
  app.use(express.json({ verify: (req, _res, buf) => ((req as unknown as { raw: string }).raw = buf.toString('utf8')) }));
  app.post('/docs-receiver', (req, res) => {
    const timestamp = req.header('x-timestamp')!;
    const docsOk = sign(secret(), timestamp, JSON.stringify(req.body)) === req.header('x-signature');
    const raw = (req as unknown as { raw: string }).raw;
    results.push({ docsOk, rawOk: verifyWebhook(raw, req.headers, secret()), body: req.body, raw });
    res.sendStatus(docsOk ? 200 : 401);
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/docs-receiver`, results, server };
}

/** The receiver from the public docs, in Python: json.dumps(request.json, separators=(",", ":")). */
function pythonDocsReceiverAccepts(raw: string, timestamp: string, signature: string, secret: string): boolean {
  const script = `
import hmac, hashlib, json, sys
body = json.loads(sys.stdin.read())
message = sys.argv[1] + "." + json.dumps(body, separators=(",", ":"))
expected = hmac.new(sys.argv[3].encode(), message.encode(), hashlib.sha256).hexdigest()
print("ok" if hmac.compare_digest(expected, sys.argv[2]) else "bad")
`;
  return execFileSync('python3', ['-c', script, timestamp, signature, secret], { input: raw }).toString().trim() === 'ok';
}

describe('delivery', () => {
  it('delivers a FALL_DETECTION and a VITAL_THRESHOLD signed so that the documented Node and Python receivers and a raw-body verifier accept them', async () => {
    let secret = '';
    const docs = await startDocsReceiver(() => secret);
    try {
      const project = await projectWithWebhook(['FALL_DETECTION', 'VITAL_THRESHOLD'], docs.url);
      secret = project.secret;
      const fall = fallDetection(project.projectId);
      const vital = vitalThreshold(project.projectId);
      const accepted = await postEvent(fall);
      expect(accepted.status).toBe(202);
      expect(accepted.body.eventId).toMatch(/^[0-9a-f-]{36}$/);
      expect((await postEvent(vital)).status).toBe(202);

      await eventually(() => docs.results.length >= 2);
      for (const result of docs.results) {
        expect(result).toMatchObject({ docsOk: true, rawOk: true });
      }
      // The body is `data` alone, compact JSON.
      const bodies = docs.results.map((r) => r.raw);
      expect(bodies).toContain(JSON.stringify(fall.data));
      expect(bodies).toContain(JSON.stringify(vital.data));

      const delivered = await recorded(accepted.body.eventId, 'delivered');
      expect(delivered).toMatchObject({
        projectId: project.projectId,
        webhookType: 'FALL_DETECTION',
        attempt: 1,
        statusCode: 200,
        urlHost: new URL(docs.url).host,
      });
      expect(delivered.durationMs).toEqual(expect.any(Number));
    } finally {
      docs.server.close();
    }
  });

  it('sends the documented headers, and the Python docs receiver verifies the bytes', async () => {
    const project = await projectWithWebhook();
    const event = fallDetection(project.projectId);
    const { body } = await postEvent(event);
    const [hook] = await h.receiver.waitFor(1, { path: project.path });
    expect(hook!.headers['content-type']).toBe('application/json');
    expect(hook!.headers['x-timestamp']).toMatch(/^\d{13}$/);
    expect(Math.abs(Number(hook!.headers['x-timestamp']) - Date.now())).toBeLessThan(60_000);
    expect(hook!.headers['x-signature']).toMatch(/^[0-9a-f]{64}$/);
    expect(hook!.headers['x-event-id']).toBe(body.eventId);
    expect(hook!.headers['x-event-type']).toBe('FALL_DETECTION');
    expect(hook!.rawBody).toBe(JSON.stringify(event.data));
    expect(
      pythonDocsReceiverAccepts(
        hook!.rawBody,
        hook!.headers['x-timestamp'] as string,
        hook!.headers['x-signature'] as string,
        project.secret,
      ),
    ).toBe(true);
  });

  it('does not deliver a type the project did not subscribe to, and records why', async () => {
    const project = await projectWithWebhook(['FALL_DETECTION']);
    const { status, body } = await postEvent(vitalThreshold(project.projectId));
    expect(status).toBe(202);
    const rejected = await recorded(body.eventId, 'rejected');
    expect(rejected.error).toBe(`Project ${project.projectId} has not registered a webhook for event: VITAL_THRESHOLD`);
    const job = await h.producer.queue.getJob(body.eventId);
    await eventually(async () => (await job!.getState()) === 'failed');
    expect(h.receiver.receivedOn(project.path)).toHaveLength(0);
  });

  it('skips silently when the project has no webhook', async () => {
    await h.createProject('proj-without-hook', ['auth0|member']);
    const { status, body } = await postEvent(fallDetection('proj-without-hook'));
    expect(status).toBe(202);
    const job = await h.producer.queue.getJob(body.eventId);
    await eventually(async () => (await job!.getState()) === 'completed');
    expect((await h.producer.queue.getJob(body.eventId))!.returnvalue).toEqual({ outcome: 'skipped' });
    await new Promise((resolve) => setTimeout(resolve, 200)); // longer than a record batch takes to land
    expect(await attempts(body.eventId)).toEqual([]);
  });

  it('TEST goes through the queue and worker to the receiver whatever types says, and reports the outcome', async () => {
    const project = await projectWithWebhook(['VITAL_THRESHOLD']);
    const res = await h.request('POST', `/webhooks/test/project/${project.projectId}`, { token: member });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ delivered: true, statusCode: 200, eventId: expect.any(String) });
    const [hook] = await h.receiver.waitFor(1, { path: project.path });
    expect(hook!.rawBody).toBe('{"test":"test"}');
    expect(hook!.headers['x-event-type']).toBe('TEST');
    expect(verifyWebhook(hook!.rawBody, hook!.headers, project.secret)).toBe(true);
  });

  it('TEST reports what a failing receiver answered; 404 when no webhook is registered', async () => {
    const project = await projectWithWebhook();
    h.receiver.respondWith((hook) => ({ status: hook.path === project.path ? 503 : 200 }));
    try {
      const res = await h.request('POST', `/webhooks/test/project/${project.projectId}`, { token: member });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ delivered: false, statusCode: 503, error: 'receiver answered 503' });
    } finally {
      h.receiver.respondWith(() => ({ status: 200 }));
    }
    await h.createProject('proj-test-none', ['auth0|member']);
    const none = await h.request('POST', '/webhooks/test/project/proj-test-none', { token: member });
    expect(none.status).toBe(404);
    expect(none.body.message).toBe('No webhook registered for project proj-test-none');
  });

  it('records a non-2xx answer as failed, with its status', async () => {
    const project = await projectWithWebhook();
    h.receiver.respondWith((hook) => ({ status: hook.path === project.path ? 500 : 200 }));
    try {
      const { body } = await postEvent(fallDetection(project.projectId));
      const failed = await recorded(body.eventId, 'failed');
      expect(failed).toMatchObject({ statusCode: 500, error: 'receiver answered 500', attempt: 1 });
    } finally {
      h.receiver.respondWith(() => ({ status: 200 }));
    }
  });

  it('records an unreachable receiver as failed', async () => {
    const closed = await startDocsReceiver(() => '');
    const url = closed.url;
    await new Promise((resolve) => closed.server.close(resolve));
    const project = await projectWithWebhook(['FALL_DETECTION'], url);
    const { body } = await postEvent(fallDetection(project.projectId));
    const failed = await recorded(body.eventId, 'failed');
    expect(failed.error).toContain('ECONNREFUSED');
    expect(failed.statusCode).toBeUndefined();
  });

  it('does not follow redirects: a 3xx is a failed delivery', async () => {
    const project = await projectWithWebhook();
    h.receiver.respondWith((hook) => ({ status: hook.path === project.path ? 302 : 200 }));
    try {
      const { body } = await postEvent(fallDetection(project.projectId));
      expect(await recorded(body.eventId, 'failed')).toMatchObject({ statusCode: 302 });
    } finally {
      h.receiver.respondWith(() => ({ status: 200 }));
    }
  });

  it('an event with invalid data written straight to the queue fails visibly, never silently', async () => {
    const project = await projectWithWebhook();
    const eventId = 'bad-event-1';
    await h.producer.queue.add(
      'FALL_DETECTION',
      {
        projectId: project.projectId,
        userUUID: 'x',
        webhookType: 'FALL_DETECTION',
        data: { userUUID: 'x' } as never,
        eventId,
        enqueuedAt: Date.now(),
      },
      { jobId: eventId },
    );
    const rejected = await recorded(eventId, 'rejected');
    expect(rejected.error).toContain('Invalid FALL_DETECTION data');
    expect(rejected.error).toContain('data.reasons is required');
    const job = await h.producer.queue.getJob(eventId);
    await eventually(async () => (await job!.getState()) === 'failed');
    expect(h.receiver.receivedOn(project.path)).toHaveLength(0);
  });

  it('a receiver that sleeps 10 s neither delays the 202 for new events nor other projects’ deliveries', async () => {
    const slow = await projectWithWebhook();
    const fast = await projectWithWebhook();
    h.receiver.respondWith((hook) => ({ status: 200, delayMs: hook.path === slow.path ? 10_000 : 0 }));
    try {
      for (let i = 0; i < 5; i++) expect((await postEvent(fallDetection(slow.projectId))).status).toBe(202);
      await h.receiver.waitFor(1, { path: slow.path }); // the slow receiver is now holding requests open

      const started = Date.now();
      const res = await postEvent(fallDetection(fast.projectId));
      const acceptedAfter = Date.now() - started;
      expect(res.status).toBe(202);
      expect(acceptedAfter).toBeLessThan(1_000);
      await h.receiver.waitFor(1, { path: fast.path, timeoutMs: 3_000 });
    } finally {
      h.receiver.respondWith(() => ({ status: 200 }));
    }
  });
});

describe('POST /events', () => {
  it('needs the events:write scope', async () => {
    const res = await postEvent(fallDetection('proj-1'), member);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
  });

  it('400 naming the field for an invalid event, and nothing is enqueued', async () => {
    // A project of its own: other tests' jobs move between states meanwhile, so a queue-wide count would race.
    const event = fallDetection('proj-invalid-events');
    const res = await postEvent({ ...event, data: { ...event.data, happenedAt: 'soon' } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'data.happenedAt must be a valid date-time' });
    const unknownType = await postEvent({ ...event, webhookType: 'SNEEZE' });
    expect(unknownType.body.message).toBe('webhookType must be one of: FALL_DETECTION, VITAL_THRESHOLD, TEST');
    const test = await postEvent({ ...event, webhookType: 'TEST', data: { test: 'test' } });
    expect(test.status).toBe(400);
    const jobs = await h.producer.queue.getJobs(['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed']);
    expect(jobs.filter((job) => job.data.projectId === event.projectId)).toEqual([]);
  });
});

describe('Idempotency-Key', () => {
  it('the same key enqueues the event once and it is delivered once (a pipeline retrying after a timeout)', async () => {
    const project = await projectWithWebhook();
    const key = '0b8f2a56-7c1e-4d3a-9f6b-5e4d3c2b1a09';
    const event = fallDetection(project.projectId);
    const send = () =>
      fetch(`${h.api.url}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${pipeline}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(event),
      }).then(async (res) => ({ status: res.status, body: (await res.json()) as ApiBody }));
    const [a, b] = [await send(), await send()];
    expect(a.status).toBe(202);
    expect(b).toEqual(a);
    const [hook] = await h.receiver.waitFor(1, { path: project.path });
    expect(hook!.headers['x-event-id']).toBe(a.body.eventId);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.receiver.receivedOn(project.path)).toHaveLength(1);
  });

  it('400 when the key is not a UUID', async () => {
    const res = await fetch(`${h.api.url}/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pipeline}`, 'content-type': 'application/json', 'idempotency-key': 'abc' },
      body: JSON.stringify(fallDetection('proj-1')),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toBe('Idempotency-Key header must be a UUID');
  });
});
