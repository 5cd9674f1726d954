import { LocalTokenIssuer } from '@novee/devkit';
import { registrationsCollection, requireSecretCipher } from '@novee/shared';
import { AUDIENCE, startHarness, type Harness } from './support/harness';

let h: Harness;
let member: string;
let outsider: string;
const PROJECT = 'proj-mgmt';

beforeAll(async () => {
  h = await startHarness({ workers: 0 });
  await h.createProject(PROJECT, ['auth0|member']);
  await h.createProject('proj-other', ['auth0|outsider']);
  member = await h.token('auth0|member');
  outsider = await h.token('auth0|outsider');
});
afterAll(() => h.stop());
beforeEach(() => registrationsCollection(h.db).deleteMany({}));

const register = (body: unknown, token = member) => h.request('POST', '/webhooks/register', { token, body });
/** The additive health fields of a registration that has never failed. */
const healthy = { status: 'enabled', disabledReason: null, failingSince: null };
const validBody = () => ({ projectId: PROJECT, url: 'https://hooks.example.com/novee', types: ['FALL_DETECTION'] });

describe('POST /webhooks/register', () => {
  it('201 with {_id, projectId, url, types, secret} (and the additive health fields); secret starts with whsec_', async () => {
    const res = await register(validBody());
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual([
      '_id',
      'disabledReason',
      'failingSince',
      'projectId',
      'secret',
      'status',
      'types',
      'url',
    ]);
    expect(res.body).toMatchObject({ status: 'enabled', disabledReason: null, failingSince: null });
    expect(res.body).toMatchObject({ projectId: PROJECT, url: 'https://hooks.example.com/novee', types: ['FALL_DETECTION'] });
    expect(res.body._id).toMatch(/^[0-9a-f]{24}$/);
    // Standard Webhooks form: whsec_ + base64 of 32 random bytes.
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  });

  it('stores the secret encrypted (AES-256-GCM), never in plaintext', async () => {
    const { secret } = (await register(validBody())).body;
    const stored = await registrationsCollection(h.db).findOne({ projectId: PROJECT });
    expect(stored!.secret).toMatch(/^enc:v1:test:/);
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(requireSecretCipher(h.config).decrypt(stored!.secret)).toBe(secret);
  });

  it('409 when the project already has one', async () => {
    expect((await register(validBody())).status).toBe(201);
    const again = await register({ ...validBody(), url: 'https://other.example.com/' });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ statusCode: 409, error: 'Conflict', message: 'Webhook has already been registered previously' });
  });

  it('exactly one succeeds when 20 registrations race (unique index, not read-then-write)', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => register({ ...validBody(), url: `https://h${i}.example.com/` })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(19);
    expect(await registrationsCollection(h.db).countDocuments({ projectId: PROJECT })).toBe(1);
  });

  it('404 for an unknown project', async () => {
    const res = await register({ ...validBody(), projectId: 'nope' });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'No project with id nope was found' });
  });

  it('403 when the caller is not a member', async () => {
    const res = await register(validBody(), outsider);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
  });

  it.each([
    ['a bad URL', { url: 'not a url' }, 'url must be a valid uri'],
    ['a non-https URL', { url: 'http://hooks.example.com/' }, 'url must use https'],
    ['an unknown type', { types: ['FALL_DETECTION', 'SNEEZE'] }, 'types[1] must be one of: FALL_DETECTION, VITAL_THRESHOLD'],
    ['empty types', { types: [] }, 'types must NOT have fewer than 1 items'],
    ['an extra field', { secret: 'mine' }, 'secret is not an allowed field'],
    ['a missing field', { url: undefined }, 'url is required'],
    ['duplicate types', { types: ['FALL_DETECTION', 'FALL_DETECTION'] }, 'types must NOT have duplicate items'],
  ])('400 for %s, naming the field', async (_case, change, message) => {
    const res = await register({ ...validBody(), ...change });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('Bad Request');
    expect(res.body.message).toContain(message);
    expect(await registrationsCollection(h.db).countDocuments()).toBe(0);
  });

  it('400 for a body that is not JSON', async () => {
    const res = await h.request('POST', '/webhooks/register', { token: member, rawBody: '{"projectId":' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'Request body must be valid JSON' });
  });
});

describe('PATCH /webhooks', () => {
  it('404 before a webhook is registered', async () => {
    const res = await h.request('PATCH', '/webhooks', { token: member, body: { projectId: PROJECT, types: ['VITAL_THRESHOLD'] } });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Must register webhook before updating it' });
  });

  it('200 with the updated registration, without secret', async () => {
    const created = (await register(validBody())).body;
    const res = await h.request('PATCH', '/webhooks', {
      token: member,
      body: { projectId: PROJECT, url: 'https://new.example.com/hook', types: ['FALL_DETECTION', 'VITAL_THRESHOLD'] },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      _id: created._id,
      projectId: PROJECT,
      url: 'https://new.example.com/hook',
      types: ['FALL_DETECTION', 'VITAL_THRESHOLD'],
      ...healthy,
    });
    const stored = await registrationsCollection(h.db).findOne({ projectId: PROJECT });
    expect(requireSecretCipher(h.config).decrypt(stored!.secret)).toBe(created.secret);
  });

  it('updates only what is given', async () => {
    await register(validBody());
    const res = await h.request('PATCH', '/webhooks', { token: member, body: { projectId: PROJECT, types: ['VITAL_THRESHOLD'] } });
    expect(res.body).toMatchObject({ url: 'https://hooks.example.com/novee', types: ['VITAL_THRESHOLD'] });
  });

  it('400 for invalid changes, 404 unknown project, 403 non-member', async () => {
    await register(validBody());
    const bad = await h.request('PATCH', '/webhooks', { token: member, body: { projectId: PROJECT, url: 'http://x.example.com/' } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('url must use https');
    const extra = await h.request('PATCH', '/webhooks', { token: member, body: { projectId: PROJECT, secret: 'x' } });
    expect(extra.status).toBe(400);
    const unknown = await h.request('PATCH', '/webhooks', { token: member, body: { projectId: 'nope', types: ['FALL_DETECTION'] } });
    expect(unknown.body.message).toBe('No project with id nope was found');
    const forbidden = await h.request('PATCH', '/webhooks', { token: outsider, body: { projectId: PROJECT, types: ['FALL_DETECTION'] } });
    expect(forbidden.status).toBe(403);
  });
});

describe('GET and DELETE /webhooks/project/:projectId', () => {
  it('GET 200 without secret; DELETE 204; then GET 404', async () => {
    const created = (await register(validBody())).body;
    const got = await h.request('GET', `/webhooks/project/${PROJECT}`, { token: member });
    expect(got.status).toBe(200);
    expect(got.body).toEqual({ _id: created._id, projectId: PROJECT, url: validBody().url, types: ['FALL_DETECTION'], ...healthy });

    const deleted = await h.request('DELETE', `/webhooks/project/${PROJECT}`, { token: member });
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();

    const gone = await h.request('GET', `/webhooks/project/${PROJECT}`, { token: member });
    expect(gone.status).toBe(404);
    // and the project can register again
    expect((await register(validBody())).status).toBe(201);
  });

  it('404 unknown project, 403 non-member, for GET, DELETE and test', async () => {
    await register(validBody());
    for (const [method, path] of [
      ['GET', '/webhooks/project/'],
      ['DELETE', '/webhooks/project/'],
      ['POST', '/webhooks/test/project/'],
    ] as const) {
      const unknown = await h.request(method, `${path}nope`, { token: member });
      expect(unknown.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'No project with id nope was found' });
      expect((await h.request(method, `${path}${PROJECT}`, { token: outsider })).status).toBe(403);
    }
    expect(await registrationsCollection(h.db).countDocuments()).toBe(1);
  });
});

describe('authentication', () => {
  const routes = [
    ['POST', '/webhooks/register'],
    ['PATCH', '/webhooks'],
    ['GET', `/webhooks/project/${PROJECT}`],
    ['DELETE', `/webhooks/project/${PROJECT}`],
    ['POST', `/webhooks/test/project/${PROJECT}`],
    ['POST', '/events'],
  ] as const;

  it.each(routes)('%s %s is 401 without a token', async (method, path) => {
    const res = await h.request(method, path, { body: method === 'GET' ? undefined : validBody() });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('401 for a token signed by another key, for another audience, from another issuer, or expired', async () => {
    const stranger = await LocalTokenIssuer.start({ audience: AUDIENCE });
    try {
      const tokens = [
        await stranger.issueToken({ sub: 'auth0|member', issuer: h.issuer.issuer }),
        await h.issuer.issueToken({ sub: 'auth0|member', audience: 'https://someone-else' }),
        await h.issuer.issueToken({ sub: 'auth0|member', issuer: 'https://evil.example.com/' }),
        await h.issuer.issueToken({ sub: 'auth0|member', expiresInSeconds: -60 }),
        'not-a-jwt',
      ];
      for (const token of tokens) {
        const res = await h.request('GET', `/webhooks/project/${PROJECT}`, { token });
        expect(res.status).toBe(401);
      }
    } finally {
      await stranger.stop();
    }
  });

  it('health endpoints need no token', async () => {
    expect((await h.request('GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await h.request('GET', '/readyz')).body).toEqual({ status: 'ok', checks: { redis: 'ok', mongodb: 'ok' } });
  });
});
