import { expect } from '@jest/globals';
import { verifyWebhook } from '@novee/shared';
import { startHarness, type Harness } from './support/harness';
import { fallDetection } from './support/fixtures';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ workers: 1 });
  await h.createProject('rotate', ['auth0|member']);
  await h.createProject('rotate-other', ['auth0|outsider']);
});
afterAll(() => h.stop());

it('returns a new secret once; deliveries switch to it at once; retries cover the receiver catching up', async () => {
  const member = await h.token('auth0|member');
  const pipeline = await h.token('pipeline@clients', 'events:write');
  const registered = await h.request('POST', '/webhooks/register', {
    token: member,
    body: { projectId: 'rotate', url: h.receiver.url('/rotate'), types: ['FALL_DETECTION'] },
  });
  const oldSecret = registered.body.secret;

  const rotated = await h.request('POST', '/webhooks/project/rotate/secret/rotate', { token: member });
  expect(rotated.status).toBe(200);
  expect(rotated.body).toEqual({
    _id: registered.body._id,
    projectId: 'rotate',
    url: h.receiver.url('/rotate'),
    types: ['FALL_DETECTION'],
    secret: expect.stringMatching(/^whsec_[0-9a-f]{64}$/),
  });
  const newSecret = rotated.body.secret;
  expect(newSecret).not.toBe(oldSecret);
  expect((await h.request('GET', '/webhooks/project/rotate', { token: member })).body.secret).toBeUndefined();

  // The receiver still checks the old secret, so it answers 401 until its config is updated: the retry delivers.
  let receiverSecret = oldSecret;
  h.receiver.respondWith((hook) => {
    const ok = verifyWebhook(hook.rawBody, hook.headers, receiverSecret);
    receiverSecret = newSecret; // the operator updates the receiver after the first refusal
    return { status: ok ? 200 : 401 };
  });
  await h.request('POST', '/events', { token: pipeline, body: fallDetection('rotate') });
  const [first, second] = await h.receiver.waitFor(2, { path: '/rotate' });
  expect(verifyWebhook(first!.rawBody, first!.headers, oldSecret)).toBe(false);
  expect(verifyWebhook(first!.rawBody, first!.headers, newSecret)).toBe(true);
  expect(verifyWebhook(second!.rawBody, second!.headers, newSecret)).toBe(true);
});

it('404 without a registration, 403 for non-members', async () => {
  const outsider = await h.token('auth0|outsider');
  expect((await h.request('POST', '/webhooks/project/rotate/secret/rotate', { token: outsider })).status).toBe(403);
  const none = await h.request('POST', '/webhooks/project/rotate-other/secret/rotate', { token: outsider });
  expect(none.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'No webhook registered for project rotate-other' });
});
