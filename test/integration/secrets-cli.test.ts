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

it('key rotation: a new first key, secrets:reencrypt, then the old key can go', async () => {
  const oldKeys = h.env.SECRETS_ENCRYPTION_KEYS!; // the registration from the test above is under it
  const newKey = cli(['secrets:generate-key', '--id', 'next']).trim();
  expect(newKey).toMatch(/^next:[A-Za-z0-9+/]{43}=$/);

  const before = (await registrationsCollection(h.db).findOne({ projectId: 'cli-proj' }))!.secret;
  expect(before.startsWith('enc:v1:test:')).toBe(true);
  expect(cli(['secrets:reencrypt'], { SECRETS_ENCRYPTION_KEYS: `${newKey},${oldKeys}` })).toContain('re-encrypted 1 webhook secret(s)');

  const after = (await registrationsCollection(h.db).findOne({ projectId: 'cli-proj' }))!.secret;
  expect(after.startsWith('enc:v1:next:')).toBe(true);
  expect(SecretCipher.fromKeyList(newKey).decrypt(after)).toBe(SecretCipher.fromKeyList(oldKeys).decrypt(before));
});
