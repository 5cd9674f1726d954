import { SignJWT } from 'jose';
import { startHarness, type ApiBody, type Harness } from '../support/harness';
import { fallDetection } from '../support/fixtures';
import { call, expectErrorBody } from './support';

/**
 * Auth tricks: malformed Authorization headers, tokens outside the header, forged or foreign tokens, and
 * requests for other projects (IDOR). Every one is refused with 401 / 403 / 404 and changes nothing.
 */
let h: Harness;
let token: string;

beforeAll(async () => {
  h = await startHarness({ workers: 0 });
  await h.webhookProject('mine'); // member auth0|member, a webhook registered
  await h.createProject('theirs', ['auth0|other']);
  token = await h.token('auth0|member');
});
afterAll(() => h.stop());

const registrationOf = (projectId: string) => h.db.collection('registrations').findOne({ projectId });

describe('malformed Authorization headers are 401, as SPEC says (never 400)', () => {
  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['"Bearer" alone', 'Bearer'],
    ['"Bearer " with nothing after it', 'Bearer '],
    ['Basic credentials', 'Basic dXNlcjpwYXNz'],
    ['a token without a scheme', () => token],
    ['a token with two spaces', () => `Bearer  ${token}`],
    ['three parts', () => `Bearer ${token} extra`],
    ['an unknown scheme', () => `Token ${token}`],
    ['a JWT that is not one', 'Bearer not.a.jwt'],
    ['garbage', 'Bearer %%%%'],
  ])('%s', async (_name, header) => {
    const value = typeof header === 'function' ? header() : header;
    const answer = await call(h, 'GET', '/webhooks/project/mine', { headers: value === undefined ? {} : { authorization: value } });
    expectErrorBody(answer, 401);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="api"/);
  });
});

describe('tokens only from the Authorization header', () => {
  it.each(['access_token', 'ACCESS_TOKEN', 'Access_Token'])('?%s=<valid token> is refused with 401 and never used', async (name) => {
    const answer = await call(h, 'GET', `/webhooks/project/mine?${name}=${token}`);
    expectErrorBody(answer, 401, /only in the Authorization header.*; a token in the query string is refused$/);
    expect(answer.text).not.toContain('"url"');
  });

  it('a query token is refused even next to a valid header token (it would end up in logs either way)', async () => {
    const answer = await call(h, 'DELETE', `/webhooks/project/mine?access_token=${token}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expectErrorBody(answer, 401);
    expect(await registrationOf('mine')).not.toBeNull();
  });

  it('a token in a form body is never read (401 without a header, 415 with one)', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expectErrorBody(await call(h, 'POST', '/webhooks/test/project/mine', { headers: form, body: `access_token=${token}` }), 401);
    expectErrorBody(
      await call(h, 'POST', '/webhooks/test/project/mine', {
        headers: { ...form, authorization: `Bearer ${token}` },
        body: `access_token=${token}`,
      }),
      415,
    );
  });

  it('a token in a JSON body is never read: without a header it is 401', async () => {
    const body = JSON.stringify({ access_token: token, projectId: 'mine', types: ['FALL_DETECTION'] });
    expectErrorBody(await call(h, 'PATCH', '/webhooks', { headers: { 'content-type': 'application/json' }, body }), 401);
  });
});

describe('forged and foreign tokens', () => {
  it.each([
    ['expired', () => h.issuer.issueToken({ sub: 'auth0|member', expiresInSeconds: -120 })],
    ['for another audience', () => h.issuer.issueToken({ sub: 'auth0|member', audience: 'https://other.api' })],
    ['from another issuer', () => h.issuer.issueToken({ sub: 'auth0|member', issuer: 'https://evil.example/' })],
    [
      'signed with a shared secret (HS256)',
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('auth0|member')
          .setIssuer(h.issuer.issuer)
          .setAudience(h.config.auth0Audience!)
          .setIssuedAt()
          .setExpirationTime('1h')
          .sign(new TextEncoder().encode('x'.repeat(32))),
    ],
    [
      'unsigned (alg none)',
      () => {
        const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
        const now = Math.floor(Date.now() / 1000);
        return `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub: 'auth0|member', iss: h.issuer.issuer, aud: h.config.auth0Audience, iat: now, exp: now + 3600 })}.`;
      },
    ],
    [
      'with a tampered payload',
      async () => {
        const [header, , signature] = (await h.token('auth0|other')).split('.');
        return `${header}.${Buffer.from(JSON.stringify({ sub: 'auth0|member' })).toString('base64url')}.${signature}`;
      },
    ],
  ])('a token %s: 401', async (_name, forge) => {
    const answer = await call(h, 'DELETE', '/webhooks/project/mine', { headers: { authorization: `Bearer ${await forge()}` } });
    expectErrorBody(answer, 401);
    expect(await registrationOf('mine')).not.toBeNull();
  });

  it('a token without events:write cannot ingest: 403, nothing enqueued', async () => {
    const answer = await call(h, 'POST', '/events', {
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(fallDetection('mine')),
    });
    expectErrorBody(answer, 403);
    expect(await h.producer.queue.count()).toBe(0);
  });
});

describe('other projects (IDOR): 403 for a project of someone else, 404 for none, nothing changed', () => {
  it.each([
    ['GET', '/webhooks/project/mine'],
    ['DELETE', '/webhooks/project/mine'],
    ['POST', '/webhooks/project/mine/secret/rotate'],
    ['POST', '/webhooks/test/project/mine'],
    ['GET', '/webhooks/project/mine/deliveries'],
    ['POST', '/webhooks/project/mine/deliveries/some-event/redeliver'],
  ])('%s %s by a non-member', async (method, path) => {
    const before = await registrationOf('mine');
    const answer = await call(h, method, path, { headers: { authorization: `Bearer ${await h.token('auth0|other')}` } });
    expectErrorBody(answer, 403);
    expect(answer.text).not.toMatch(/whsec_|hooks\/mine/);
    expect(await registrationOf('mine')).toEqual(before);
  });

  it("PATCH of someone else's webhook: 403, URL unchanged", async () => {
    const before = await registrationOf('mine');
    const answer = await call(h, 'PATCH', '/webhooks', {
      headers: { authorization: `Bearer ${await h.token('auth0|other')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ projectId: 'mine', url: h.receiver.url('/stolen') }),
    });
    expectErrorBody(answer, 403);
    expect(await registrationOf('mine')).toEqual(before);
  });

  it('an unknown project: 404 with the SPEC message', async () => {
    expectErrorBody(
      await call(h, 'GET', '/webhooks/project/nobody', { headers: { authorization: `Bearer ${token}` } }),
      404,
      'No project with id nobody was found',
    );
  });
});

describe('no DNS oracle: access is checked before the URL is resolved', () => {
  let strict: Harness;
  beforeAll(async () => {
    strict = await startHarness({ workers: 0, env: { WEBHOOK_ALLOW_HTTP_LOOPBACK: 'false' } });
    await strict.createProject('oracle', ['auth0|member']);
  });
  afterAll(() => strict.stop());

  // localhost resolves to a loopback address: only a member may learn that.
  const attempt = async (sub: string, method: 'POST' | 'PATCH', projectId: string) => {
    const body = { projectId, url: 'https://localhost:8443/hook', ...(method === 'POST' && { types: ['FALL_DETECTION'] }) };
    const response = await fetch(`${strict.api.url}${method === 'POST' ? '/webhooks/register' : '/webhooks'}`, {
      method,
      headers: { authorization: `Bearer ${await strict.token(sub)}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as ApiBody };
  };

  it.each(['POST', 'PATCH'] as const)('%s by a non-member: 403, no address in the answer', async (method) => {
    const answer = await attempt('auth0|outsider', method, 'oracle');
    expectErrorBody(answer, 403);
    expect(answer.json.message).not.toMatch(/127\.0\.0\.1|::1|loopback|resolves/);
  });

  it.each(['POST', 'PATCH'] as const)('%s for an unknown project: 404, no address in the answer', async (method) => {
    const answer = await attempt('auth0|member', method, 'no-such-project');
    expectErrorBody(answer, 404, 'No project with id no-such-project was found');
  });

  it('a member does learn why the URL is refused', async () => {
    const answer = await attempt('auth0|member', 'POST', 'oracle');
    expectErrorBody(answer, 400, /^url host localhost resolves to a non-public address \((127\.0\.0\.1|::1) is a loopback address\)$/);
  });
});
