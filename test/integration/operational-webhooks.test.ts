import { WebhookReceiver } from '@novee/devkit';
import { generateWebhookSecret, verifyWebhook } from '@novee/shared';
import { eventually, startHarness, type Harness } from './support/harness';
import { fallDetection } from './support/fixtures';
import { metric } from './support/prometheus';

// ENDPOINT_FAILING_NOTIFY_AFTER=1s and ENDPOINT_DISABLE_AFTER=3s here (1 h and 5 days by default).
let h: Harness;
let ops: WebhookReceiver;
let member: string;
let pipeline: string;
const opsSecret = generateWebhookSecret();
beforeAll(async () => {
  ops = await WebhookReceiver.start();
  h = await startHarness({
    workers: 1,
    env: {
      ENDPOINT_DISABLE_AFTER: '3s',
      ENDPOINT_FAILING_NOTIFY_AFTER: '1s',
      // The circuit stays closed, so failures keep coming between the two thresholds (no 2 s cooldown gap).
      CIRCUIT_FAILURE_THRESHOLD: '1000',
      OPERATIONAL_WEBHOOK_URL: ops.url('/ops'),
      OPERATIONAL_WEBHOOK_SECRET: opsSecret,
    },
  });
  member = await h.token('auth0|member');
  pipeline = await h.token('pipeline@clients', 'events:write:any');
});
afterAll(async () => {
  await h.stop();
  await ops.stop();
});
afterEach(() => h.receiver.respondWith(() => ({ status: 200 })));

let n = 0;
const project = () => h.webhookProject(`ops-${++n}`, { types: ['FALL_DETECTION'] });
const send = (projectId: string) => h.request('POST', '/events', { token: pipeline, body: fallDetection(projectId) });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
type Notice = { type: string; timestamp: string; data: Record<string, unknown> };
const notices = (projectId: string): Notice[] =>
  ops.received.map((hook) => JSON.parse(hook.rawBody) as Notice).filter((notice) => notice.data.projectId === projectId);

it('a failing endpoint is announced as endpoint.failing, then endpoint.disabled, each once and signed', async () => {
  const p = await project();
  h.receiver.respondWith((hook) => ({ status: hook.path === p.path ? 500 : 200 }));
  for (let i = 0; i < 40 && !notices(p.projectId).some((notice) => notice.type === 'endpoint.disabled'); i++) {
    await send(p.projectId);
    await sleep(500);
  }
  await sleep(500); // any later notice would have come by now
  const received = notices(p.projectId);
  expect(received.map((notice) => notice.type)).toEqual(['endpoint.failing', 'endpoint.disabled']);
  const [failing, disabled] = received;
  expect(failing!.data).toMatchObject({ projectId: p.projectId, urlHost: new URL(h.receiver.baseUrl).host });
  expect(disabled!.data.reason).toMatch(/^failing continuously since /);
  expect(disabled!.data.failingSince).toBe(failing!.data.failingSince);
  for (const hook of ops.received.filter((hook) => hook.rawBody.includes(p.projectId))) {
    expect(verifyWebhook(hook.rawBody, hook.headers, opsSecret)).toBe(true);
    expect(verifyWebhook(hook.rawBody, hook.headers, generateWebhookSecret())).toBe(false);
  }
  const metrics = await (await fetch(h.workers[0]!.metricsUrl)).text();
  expect(metric(metrics, 'novee_operational_webhooks_total', { type: 'endpoint.disabled', outcome: 'delivered' })).toBeGreaterThanOrEqual(
    1,
  );
  expect(metric(metrics, 'novee_endpoint_health_transitions_total', { transition: 'disabled' })).toBeGreaterThanOrEqual(1);
});

it('an endpoint that answers again after failing is announced as endpoint.recovered', async () => {
  const p = await project();
  let failing = true;
  h.receiver.respondWith((hook) => ({ status: hook.path === p.path && failing ? 500 : 200 }));
  await send(p.projectId);
  await eventually(async () => (await h.request('GET', `/webhooks/project/${p.projectId}`, { token: member })).body.failingSince);
  failing = false;
  await send(p.projectId);
  const recovered = await eventually(() => notices(p.projectId).find((notice) => notice.type === 'endpoint.recovered'));
  expect(typeof recovered.data.failingSince).toBe('string');
});

it('410 Gone is announced as endpoint.disabled with its reason', async () => {
  const p = await project();
  h.receiver.respondWith((hook) => ({ status: hook.path === p.path ? 410 : 200 }));
  await send(p.projectId);
  const disabled = await eventually(() => notices(p.projectId).find((notice) => notice.type === 'endpoint.disabled'));
  expect(disabled.data.reason).toBe('receiver answered 410');
});
