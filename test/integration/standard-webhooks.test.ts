import { Webhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { verify } from '@novee/webhooks-verify';
import { registrationsCollection, requireSecretCipher, verifyWebhook } from '@novee/shared';
import type { ReceivedWebhook } from '@novee/devkit';
import { eventually, startHarness, type Harness } from './support/harness';
import { fallDetection } from './support/fixtures';
import { payloadCorpus } from './support/payload-corpus';
import { pythonStandardWebhooksVerifies } from './support/python';

let h: Harness;
let pipeline: string;
let member: string;
beforeAll(async () => {
  h = await startHarness({ workers: 1 });
  pipeline = await h.token('pipeline@clients', 'events:write:any');
  member = await h.token('auth0|member');
});
afterAll(() => h.stop());

const postEvent = (event: unknown) => h.request('POST', '/events', { token: pipeline, body: event });

/** Each official verifier's verdict on one received webhook, with the secret exactly as it was issued. */
function officialVerdicts(hook: ReceivedWebhook, secret: string) {
  const headers = hook.headers as Record<string, string>;
  const attempt = (check: () => unknown) => {
    try {
      check();
      return true;
    } catch {
      return false;
    }
  };
  return {
    npmStandardWebhooks: attempt(() => new Webhook(secret).verify(hook.rawBody, headers)),
    svix: attempt(() => new SvixWebhook(secret).verify(hook.rawBody, headers)),
    noveeStandard: attempt(() => verify(hook.rawBody, headers, [secret], { scheme: 'standard-webhooks' })),
    noveeXSignature: attempt(() => verify(hook.rawBody, headers, [secret], { scheme: 'x-signature' })),
  };
}
const allTrue = { npmStandardWebhooks: true, svix: true, noveeStandard: true, noveeXSignature: true };

it('every delivery carries Standard Webhooks headers that the npm and PyPI standardwebhooks packages and svix verify, and SPEC’s X-Signature', async () => {
  const project = await h.webhookProject('sw-corpus');
  expect(project.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  const corpus = payloadCorpus();
  const eventIds: string[] = [];
  for (const entry of corpus) {
    const res = await postEvent({
      projectId: project.projectId,
      userUUID: entry.data.userUUID,
      webhookType: entry.webhookType,
      data: entry.data,
    });
    expect(res.status).toBe(202);
    eventIds.push(res.body.eventId);
  }
  const hooks = await h.receiver.waitFor(corpus.length, { path: project.path });

  for (const [i, entry] of corpus.entries()) {
    const hook = hooks.find((x) => x.headers['x-event-id'] === eventIds[i])!;
    expect(hook.rawBody).toBe(JSON.stringify(entry.data));
    expect(hook.headers['webhook-id']).toBe(eventIds[i]);
    expect(hook.headers['webhook-timestamp']).toBe(String(Math.floor(Number(hook.headers['x-timestamp']) / 1000)));
    expect(hook.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect({ entry: entry.name, ...officialVerdicts(hook, project.secret) }).toEqual({ entry: entry.name, ...allTrue });
    // The npm library hands back the parsed payload it verified.
    expect(new Webhook(project.secret).verify(hook.rawBody, hook.headers as Record<string, string>)).toEqual(
      JSON.parse(JSON.stringify(entry.data)),
    );
  }
  expect(pythonStandardWebhooksVerifies(hooks, project.secret)).toEqual(corpus.map(() => true));
  // And they refuse what they should: another secret, a changed body.
  const other = 'whsec_' + Buffer.alloc(32, 1).toString('base64');
  expect(pythonStandardWebhooksVerifies(hooks, other)).toEqual(corpus.map(() => false));
  expect(officialVerdicts({ ...hooks[0]!, rawBody: hooks[0]!.rawBody.replace('}', ',"x":1}') }, project.secret)).toEqual({
    npmStandardWebhooks: false,
    svix: false,
    noveeStandard: false,
    noveeXSignature: false,
  });
});

it('a registration from before (secret whsec_ + 64 hex) keeps working, unchanged, for both schemes', async () => {
  const legacySecret = 'whsec_' + '5e'.repeat(8) + '0123456789abcdef'.repeat(3);
  await h.createProject('sw-legacy', ['auth0|member']);
  const now = new Date();
  await registrationsCollection(h.db).insertOne({
    projectId: 'sw-legacy',
    url: h.receiver.url('/hooks/sw-legacy'),
    types: ['FALL_DETECTION'],
    secret: requireSecretCipher(h.config).encrypt(legacySecret),
    createdAt: now,
    updatedAt: now,
  });
  const { body } = await postEvent(fallDetection('sw-legacy'));
  const [hook] = await h.receiver.waitFor(1, { path: '/hooks/sw-legacy' });
  expect(hook!.headers['webhook-id']).toBe(body.eventId);
  expect(officialVerdicts(hook!, legacySecret)).toEqual(allTrue);
  expect(pythonStandardWebhooksVerifies([hook!], legacySecret)).toEqual([true]);
  // The Standard Webhooks key of a hex secret is its 64 digits read as base64 (48 bytes): what every library derives.
  expect(new Webhook(legacySecret).sign(body.eventId, new Date(Number(hook!.headers['webhook-timestamp']) * 1000), hook!.rawBody)).toBe(
    hook!.headers['webhook-signature'],
  );
  expect(verifyWebhook(hook!.rawBody, hook!.headers, legacySecret)).toBe(true);
});

it('webhook-id is the event id on every retry and on redelivery; each attempt is signed afresh', async () => {
  const project = await h.webhookProject('sw-retry');
  let calls = 0;
  h.receiver.respondWith((hook) => ({ status: hook.path === project.path && ++calls === 1 ? 500 : 200 }));
  try {
    const { body } = await postEvent(fallDetection(project.projectId));
    const [first, second] = await h.receiver.waitFor(2, { path: project.path });
    const redelivered = await h.request('POST', `/webhooks/project/${project.projectId}/deliveries/${body.eventId}/redeliver`, {
      token: member,
    });
    expect(redelivered.status).toBe(202);
    const hooks = await h.receiver.waitFor(3, { path: project.path });
    for (const hook of hooks) {
      expect(hook.headers['webhook-id']).toBe(body.eventId);
      expect(officialVerdicts(hook, project.secret)).toEqual(allTrue);
    }
    expect(first!.headers['x-timestamp']).not.toBe(second!.headers['x-timestamp']);
    await eventually(() => calls >= 3);
  } finally {
    h.receiver.respondWith(() => ({ status: 200 }));
  }
});
