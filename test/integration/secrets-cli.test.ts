import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { SecretCipher, registrationsCollection } from '@novee/shared';
import { startHarness, type Harness } from './support/harness';

// Runs the built CLI (`npm test` builds first).
const CLI = join(__dirname, '../../apps/api/dist/cli.js');
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ workers: 0 });
});
afterAll(() => h.stop());

const cli = (args: string[], env: Record<string, string> = {}) =>
  execFileSync(process.execPath, [CLI, ...args], { env: { ...h.env, ...env } }).toString();

it('project:create makes a project its members can manage', async () => {
  expect(cli(['project:create', '--id', 'cli-proj', '--member', 'auth0|cli'])).toContain('project cli-proj');
  const token = await h.token('auth0|cli');
  const res = await h.request('POST', '/webhooks/register', {
    token,
    body: { projectId: 'cli-proj', url: 'https://hooks.example.com/', types: ['FALL_DETECTION'] },
  });
  expect(res.status).toBe(201);
});

it('key rotation: a new first key, secrets:reencrypt (current and previous webhook secret), then the old key can go', async () => {
  const oldKeys = h.env.SECRETS_ENCRYPTION_KEYS!; // the registration from the test above is under it
  const newKey = cli(['secrets:generate-key', '--id', 'next']).trim();
  expect(newKey).toMatch(/^next:[A-Za-z0-9+/]{43}=$/);
  // A webhook secret rotation inside its grace window: the previous secret is stored (encrypted) too.
  const rotated = await h.request('POST', '/webhooks/project/cli-proj/secret/rotate', { token: await h.token('auth0|cli') });
  expect(rotated.status).toBe(200);

  const before = (await registrationsCollection(h.db).findOne({ projectId: 'cli-proj' }))!;
  expect(before.secret.startsWith('enc:v1:test:')).toBe(true);
  expect(before.previousSecret!.secret.startsWith('enc:v1:test:')).toBe(true);
  expect(cli(['secrets:reencrypt'], { SECRETS_ENCRYPTION_KEYS: `${newKey},${oldKeys}` })).toContain('re-encrypted 2 webhook secret(s)');

  const after = (await registrationsCollection(h.db).findOne({ projectId: 'cli-proj' }))!;
  expect(after.secret.startsWith('enc:v1:next:')).toBe(true);
  expect(after.previousSecret!.secret.startsWith('enc:v1:next:')).toBe(true);
  const [oldCipher, newCipher] = [SecretCipher.fromKeyList(oldKeys), SecretCipher.fromKeyList(newKey)];
  expect(newCipher.decrypt(after.secret)).toBe(oldCipher.decrypt(before.secret));
  expect(newCipher.decrypt(after.previousSecret!.secret)).toBe(oldCipher.decrypt(before.previousSecret!.secret));
});
