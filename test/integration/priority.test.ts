import { startHarness, type Harness } from './support/harness';
import { fallDetection, vitalThreshold } from './support/fixtures';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ workers: 0 });
});
afterAll(() => h.stop());

it('delivers FALL_DETECTION before VITAL_THRESHOLD when both are waiting', async () => {
  await h.createProject('prio', ['auth0|member']);
  const member = await h.token('auth0|member');
  await h.request('POST', '/webhooks/register', {
    token: member,
    body: { projectId: 'prio', url: h.receiver.url('/prio'), types: ['FALL_DETECTION', 'VITAL_THRESHOLD'] },
  });
  const pipeline = await h.token('pipeline@clients', 'events:write:any');
  // Vitals first, then falls, while no worker runs.
  for (let i = 0; i < 5; i++) await h.request('POST', '/events', { token: pipeline, body: vitalThreshold('prio') });
  for (let i = 0; i < 5; i++) await h.request('POST', '/events', { token: pipeline, body: fallDetection('prio') });

  await h.startWorker({ WORKER_CONCURRENCY: '1' });
  const hooks = await h.receiver.waitFor(10, { path: '/prio' });
  expect(hooks.map((hook) => hook.headers['x-event-type'])).toEqual([
    ...Array<string>(5).fill('FALL_DETECTION'),
    ...Array<string>(5).fill('VITAL_THRESHOLD'),
  ]);
});
