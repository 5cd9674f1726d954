import { expect } from '@jest/globals';
import { startHarness, type Harness } from './support/harness';
import { fallDetection } from './support/fixtures';

/** Bull Board: patient data redacted by default, no X-Powered-By, and a cookie session for browsers. */
let h: Harness;
let admin: string;

beforeAll(async () => {
  h = await startHarness({ workers: 0 });
  admin = await h.token('ops@novee', 'admin:queues');
});
afterAll(() => h.stop());

const get = (path: string, headers: Record<string, string> = {}) => fetch(h.api.url + path, { headers, redirect: 'manual' });
const cookieOf = (response: Response) => response.headers.get('set-cookie')!.split(';')[0]!;

/** The part of Bull Board's queue listing (GET /admin/queues/api/queues) these tests read. */
interface BoardQueues {
  queues: { name: string; jobs: { id: string; data: unknown }[] }[];
}

describe('job data shown by the board', () => {
  it('is redacted to ids, type, project and timings: no names or e-mail addresses', async () => {
    const { eventId } = await h.producer.enqueue(fallDetection('board'));
    const list = await get('/admin/queues/api/queues?activeQueue=webhook-deliveries&status=latest&page=1&jobsPerPage=10', {
      authorization: `Bearer ${admin}`,
    });
    expect(list.status).toBe(200);
    const text = await list.text();
    const queue = (JSON.parse(text) as BoardQueues).queues.find((q) => q.name === 'webhook-deliveries');
    const job = queue!.jobs.find((j) => j.id === eventId);
    expect(job!.data).toEqual({
      eventId,
      projectId: 'board',
      webhookType: 'FALL_DETECTION',
      enqueuedAt: expect.any(Number),
      data: '[redacted]',
    });
    expect(job).toMatchObject({ name: 'FALL_DETECTION', attempts: 0, timestamp: expect.any(Number) });
    expect(text).not.toMatch(/ada@example\.com|Lovelace|Ada|impact detected/);

    const one = await get(`/admin/queues/api/queues/webhook-deliveries/${eventId}`, { authorization: `Bearer ${admin}` });
    expect(one.status).toBe(200);
    expect(await one.text()).not.toMatch(/ada@example\.com|Lovelace/);
  });

  it('is served without X-Powered-By and with the UI content security policy', async () => {
    const page = await get('/admin/queues', { authorization: `Bearer ${admin}`, accept: 'text/html' });
    expect(page.status).toBe(200);
    expect(page.headers.get('x-powered-by')).toBeNull();
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('cache-control')).toBe('no-store');
    const api = await get('/admin/queues/api/queues', { authorization: `Bearer ${admin}` });
    expect(api.headers.get('x-powered-by')).toBeNull();
  });
});

describe('browser session', () => {
  it('a browser without a session is sent to the sign-in page; an API client gets 401', async () => {
    const page = await get('/admin/queues', { accept: 'text/html,application/xhtml+xml' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/admin/login');
    expect((await get('/admin/queues/api/queues')).status).toBe(401);
    const login = await get('/admin/login');
    expect(login.status).toBe(200);
    expect(await login.text()).toContain('<form id="login">');
  });

  it('only an admin token can open a session (401 without, 403 without the scope)', async () => {
    expect((await fetch(`${h.api.url}/admin/session`, { method: 'POST' })).status).toBe(401);
    const member = await h.token('auth0|member');
    expect((await fetch(`${h.api.url}/admin/session`, { method: 'POST', headers: { authorization: `Bearer ${member}` } })).status).toBe(
      403,
    );
  });

  it('the cookie is HttpOnly, Secure, SameSite=Strict, scoped to /admin and short-lived; it opens the board until sign-out', async () => {
    const signIn = await fetch(`${h.api.url}/admin/session`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
    expect(signIn.status).toBe(204);
    const setCookie = signIn.headers.get('set-cookie')!;
    expect(setCookie).toMatch(
      /^novee_admin=[A-Za-z0-9_-]{43}; Max-Age=900; Path=\/admin; Expires=[^;]+; HttpOnly; Secure; SameSite=Strict$/,
    );
    expect(signIn.headers.get('cache-control')).toBe('no-store');
    const cookie = cookieOf(signIn);

    expect((await get('/admin/queues/api/queues', { cookie })).status).toBe(200);
    expect((await get('/admin/queues', { cookie, accept: 'text/html' })).status).toBe(200);
    // The cookie is for the board only: the management API still wants a bearer token.
    expect((await get('/webhooks/project/board', { cookie })).status).toBe(401);

    expect((await fetch(`${h.api.url}/admin/session`, { method: 'DELETE', headers: { cookie } })).status).toBe(204);
    expect((await get('/admin/queues/api/queues', { cookie })).status).toBe(401);
  });

  it('a session never outlives the token it was exchanged for', async () => {
    const shortLived = await h.issuer.issueToken({ sub: 'ops@novee', scope: 'admin:queues', expiresInSeconds: 60 });
    const signIn = await fetch(`${h.api.url}/admin/session`, { method: 'POST', headers: { authorization: `Bearer ${shortLived}` } });
    const maxAge = Number(/Max-Age=(\d+)/.exec(signIn.headers.get('set-cookie')!)![1]);
    expect(maxAge).toBeGreaterThan(50);
    expect(maxAge).toBeLessThanOrEqual(60);
  });

  it('a forged or unknown session id opens nothing', async () => {
    for (const cookie of ['novee_admin=' + 'A'.repeat(43), 'novee_admin=../../etc', 'novee_admin=']) {
      expect((await get('/admin/queues/api/queues', { cookie })).status).toBe(401);
    }
  });
});
