import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { deliveriesCollection } from '@novee/shared';
import { eventually, startHarness, type Harness } from './support/harness';
import { fallDetection } from './support/fixtures';

// Runs the built worker (`npm test` builds first), as ops run it: a separate process.
const WORKER_MAIN = join(__dirname, '../../apps/worker/dist/main.js');

let h: Harness;
let pipeline: string;
beforeAll(async () => {
  h = await startHarness({ workers: 0 });
  pipeline = await h.token('pipeline@clients', 'events:write:any');
  await h.createProject('proj-sigterm', ['auth0|member']);
  const member = await h.token('auth0|member');
  const res = await h.request('POST', '/webhooks/register', {
    token: member,
    body: { projectId: 'proj-sigterm', url: h.receiver.url('/sigterm'), types: ['FALL_DETECTION'] },
  });
  expect(res.status).toBe(201);
});
afterAll(() => h.stop());

async function startWorkerProcess(env: Record<string, string> = {}): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [WORKER_MAIN], {
    env: { ...h.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await eventually(() => output.includes('"worker started"'), 20_000);
  return { child, output: () => output };
}

it('on SIGTERM a worker process finishes the delivery in flight, takes no new work, and exits 0', async () => {
  h.receiver.respondWith(() => ({ status: 200, delayMs: 1_500 }));
  const { child: worker, output } = await startWorkerProcess();
  const exited = once(worker, 'exit');

  const first = await h.request('POST', '/events', { token: pipeline, body: fallDetection('proj-sigterm') });
  await h.receiver.waitFor(1, { path: '/sigterm' }); // in flight: the receiver is holding it for 1.5 s
  worker.kill('SIGTERM');
  await eventually(() => output().includes('"shutting down"'));
  const second = await h.request('POST', '/events', { token: pipeline, body: fallDetection('proj-sigterm') });

  const [code] = (await exited) as [number | null];
  expect(code).toBe(0);
  const record = await deliveriesCollection(h.db).findOne({ eventId: first.body.eventId });
  expect(record).toMatchObject({ status: 'delivered', statusCode: 200 });

  // The event that arrived during shutdown waited in the queue; the next worker delivers it.
  h.receiver.respondWith(() => ({ status: 200 }));
  expect(await deliveriesCollection(h.db).countDocuments({ eventId: second.body.eventId })).toBe(0);
  await h.startWorker();
  await eventually(() => deliveriesCollection(h.db).findOne({ eventId: second.body.eventId, status: 'delivered' }));
});

it('a worker killed with SIGKILL mid-delivery loses nothing: 200 events over two worker processes all arrive', async () => {
  await h.createProject('proj-crash', ['auth0|member']);
  const member = await h.token('auth0|member');
  await h.request('POST', '/webhooks/register', {
    token: member,
    body: { projectId: 'proj-crash', url: h.receiver.url('/crash'), types: ['FALL_DETECTION'] },
  });
  h.receiver.respondWith(() => ({ status: 200, delayMs: 100 }));
  const env = { WORKER_LOCK_DURATION_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000', ENDPOINT_MAX_IN_FLIGHT: '50' };
  const victim = await startWorkerProcess(env);
  const survivor = await startWorkerProcess(env);
  try {
    const eventIds = new Set<string>();
    for (let i = 0; i < 200; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => h.producer.enqueue(fallDetection('proj-crash'))));
      batch.forEach(({ eventId }) => eventIds.add(eventId));
    }
    await h.receiver.waitFor(40, { path: '/crash' });
    victim.child.kill('SIGKILL');

    await eventually(() => {
      const seen = new Set(h.receiver.receivedOn('/crash').map((hook) => hook.headers['x-event-id'] as string));
      return [...eventIds].every((id) => seen.has(id));
    }, 45_000);
  } finally {
    victim.child.kill('SIGKILL');
    survivor.child.kill('SIGTERM');
    await once(survivor.child, 'exit');
  }
});
