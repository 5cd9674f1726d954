import { Webhook } from 'standardwebhooks';
import { expect } from '@jest/globals';
import { verifyWebhook } from '@novee/shared';
import type { ReceivedWebhook } from '@novee/devkit';
import { startHarness, type Harness } from './support/harness';
import { fallDetection } from './support/fixtures';
import { pythonStandardWebhooksVerifies } from './support/python';

// A short grace window so the test can see it close (the default is 24 h: see config.test.ts).
const GRACE_MS = 8_000;

let h: Harness;
let member: string;
let pipeline: string;
beforeAll(async () => {
  h = await startHarness({ workers: 1, env: { SECRET_ROTATION_GRACE_MS: String(GRACE_MS) } });
  await h.createProject('rotate', ['auth0|member']);
  await h.createProject('rotate-other', ['auth0|outsider']);
  member = await h.token('auth0|member');
  pipeline = await h.token('pipeline@clients', 'events:write:any');
});
afterAll(() => h.stop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A Standard Webhooks receiver (the official npm library) that has only this secret. */
const standardReceiverAccepts = (hook: ReceivedWebhook, secret: string) => {
  try {
    new Webhook(secret).verify(hook.rawBody, hook.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
};
const signatureCount = (hook: ReceivedWebhook) => String(hook.headers['webhook-signature']).split(' ').length;

async function deliverOne(projectId: string, path: string): Promise<ReceivedWebhook> {
  const before = h.receiver.receivedOn(path).length;
  await h.request('POST', '/events', { token: pipeline, body: fallDetection(projectId) });
  const hooks = await h.receiver.waitFor(before + 1, { path });
  return hooks[before]!;
}

it('rotate: X-Signature moves to the new secret at once; a receiver still on the old secret keeps verifying webhook-signature through the window, and stops after it', async () => {
  const path = '/rotate';
  const registered = await h.request('POST', '/webhooks/register', {
    token: member,
    body: { projectId: 'rotate', url: h.receiver.url(path), types: ['FALL_DETECTION'] },
  });
  const oldSecret = registered.body.secret;

  const rotatedAt = Date.now();
  const rotated = await h.request('POST', '/webhooks/project/rotate/secret/rotate', { token: member });
  expect(rotated.status).toBe(200);
  expect(rotated.body).toEqual({
    _id: registered.body._id,
    projectId: 'rotate',
    url: h.receiver.url(path),
    types: ['FALL_DETECTION'],
    status: 'enabled',
    disabledReason: null,
    failingSince: null,
    secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    expiresAt: expect.any(String),
  });
  const newSecret = rotated.body.secret;
  const expiresAt = Date.parse(rotated.body.expiresAt);
  expect(newSecret).not.toBe(oldSecret);
  expect(expiresAt).toBeGreaterThanOrEqual(rotatedAt + GRACE_MS);
  expect(expiresAt).toBeLessThanOrEqual(Date.now() + GRACE_MS);
  expect((await h.request('GET', '/webhooks/project/rotate', { token: member })).body).toEqual({
    _id: registered.body._id,
    projectId: 'rotate',
    url: h.receiver.url(path),
    types: ['FALL_DETECTION'],
    status: 'enabled',
    disabledReason: null,
    failingSince: null,
  });

  // Inside the window: two signatures; the old-secret receiver (npm and PyPI libraries) verifies, so does the new.
  const inside = [await deliverOne('rotate', path)];
  await sleep(Math.max(0, expiresAt - 3_000 - Date.now())); // and again late in the window
  inside.push(await deliverOne('rotate', path));
  for (const hook of inside) {
    expect(Number(hook.headers['webhook-timestamp']) * 1000).toBeLessThan(expiresAt);
    expect(signatureCount(hook)).toBe(2);
    expect(standardReceiverAccepts(hook, oldSecret)).toBe(true);
    expect(standardReceiverAccepts(hook, newSecret)).toBe(true);
    expect(verifyWebhook(hook.rawBody, hook.headers, newSecret, { scheme: 'x-signature' })).toBe(true);
    expect(verifyWebhook(hook.rawBody, hook.headers, oldSecret, { scheme: 'x-signature' })).toBe(false);
  }
  expect(pythonStandardWebhooksVerifies(inside, oldSecret)).toEqual([true, true]);

  // After the window: the old secret no longer signs anything.
  await sleep(Math.max(0, expiresAt + 1_100 - Date.now()));
  h.receiver.respondWith((hook) => ({ status: standardReceiverAccepts(hook, oldSecret) ? 200 : 401 }));
  try {
    const after = await deliverOne('rotate', path);
    expect(signatureCount(after)).toBe(1);
    expect(standardReceiverAccepts(after, oldSecret)).toBe(false);
    expect(pythonStandardWebhooksVerifies([after], oldSecret)).toEqual([false]);
    expect(standardReceiverAccepts(after, newSecret)).toBe(true);
    expect(verifyWebhook(after.rawBody, after.headers, newSecret, { scheme: 'x-signature' })).toBe(true);
  } finally {
    h.receiver.respondWith(() => ({ status: 200 }));
  }
});

it('DELETE …/secret/previous ends the window early; rotating again keeps only the one just replaced', async () => {
  const project = await h.webhookProject('rotate-early');
  const first = project.secret;
  const second = (await h.request('POST', '/webhooks/project/rotate-early/secret/rotate', { token: member })).body.secret;
  const third = (await h.request('POST', '/webhooks/project/rotate-early/secret/rotate', { token: member })).body.secret;

  const during = await deliverOne(project.projectId, project.path);
  expect(signatureCount(during)).toBe(2);
  expect(standardReceiverAccepts(during, third)).toBe(true);
  expect(standardReceiverAccepts(during, second)).toBe(true);
  expect(standardReceiverAccepts(during, first)).toBe(false);

  const ended = await h.request('DELETE', '/webhooks/project/rotate-early/secret/previous', { token: member });
  expect(ended.status).toBe(204);
  const after = await deliverOne(project.projectId, project.path);
  expect(signatureCount(after)).toBe(1);
  expect(standardReceiverAccepts(after, second)).toBe(false);
  expect(standardReceiverAccepts(after, third)).toBe(true);
  // Idempotent: nothing left to end is still 204.
  expect((await h.request('DELETE', '/webhooks/project/rotate-early/secret/previous', { token: member })).status).toBe(204);
});

it('404 without a registration, 403 for non-members (rotate and ending the window)', async () => {
  const outsider = await h.token('auth0|outsider');
  expect((await h.request('POST', '/webhooks/project/rotate/secret/rotate', { token: outsider })).status).toBe(403);
  expect((await h.request('DELETE', '/webhooks/project/rotate/secret/previous', { token: outsider })).status).toBe(403);
  const none = await h.request('POST', '/webhooks/project/rotate-other/secret/rotate', { token: outsider });
  expect(none.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'No webhook registered for project rotate-other' });
  const noneEnd = await h.request('DELETE', '/webhooks/project/rotate-other/secret/previous', { token: outsider });
  expect(noneEnd.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'No webhook registered for project rotate-other' });
  expect((await h.request('DELETE', '/webhooks/project/rotate/secret/previous')).status).toBe(401);
});
