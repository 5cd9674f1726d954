import { networkInterfaces } from 'node:os';
import { gzipSync } from 'node:zlib';
import { startHarness, type Harness } from '../support/harness';
import { fallDetection } from '../support/fixtures';
import { rawRequest } from '../support/raw-http';
import { call, expectErrorBody, expectNothingStoredAndApiUp } from './support';

/**
 * Hostile request corpus: malformed bodies, encodings, paths, methods and headers, sent with valid tokens.
 * Each gets the right 4xx with the JSON error body (never a 5xx), and nothing is stored or enqueued.
 */
let h: Harness;
let member: string;
let pipeline: string;
const P = 'hostile';

beforeAll(async () => {
  h = await startHarness({ workers: 0 });
  await h.createProject(P, ['auth0|member']);
  member = `Bearer ${await h.token('auth0|member')}`;
  pipeline = `Bearer ${await h.token('pipeline|ingest', 'events:write:any')}`;
});
afterAll(() => h.stop());
afterEach(() => expectNothingStoredAndApiUp(h, P));

const json = (authorization: string, extra: Record<string, string> = {}) => ({
  authorization,
  'content-type': 'application/json',
  ...extra,
});
const validEvent = () => JSON.stringify(fallDetection(P));

describe('bodies', () => {
  it.each([
    ['truncated JSON', '{"projectId":', 400, /valid JSON/],
    ['not JSON at all', 'projectId=hostile', 400, /valid JSON/],
    ['a JSON string', '"FALL_DETECTION"', 400, /valid JSON/],
    ['null', 'null', 400, /valid JSON/],
    ['an array', '[]', 400, /body must be of type object/],
    ['an empty object', '{}', 400, /projectId is required/],
    ['100,000 nested arrays', `${'['.repeat(100_000)}${']'.repeat(100_000)}`, 400, /body must be of type object/],
    [
      'a prototype-pollution attempt',
      JSON.stringify({ ...fallDetection(P), __proto__: { admin: true } }).replace('"projectId"', '"__proto__":{"admin":true},"projectId"'),
      400,
      /__proto__ is not an allowed field/,
    ],
    ['over 256 kB', JSON.stringify({ ...fallDetection(P), padding: 'x'.repeat(300_000) }), 413, /too large/],
  ])('POST /events with %s', async (_name, body, status, message) => {
    expectErrorBody(await call(h, 'POST', '/events', { headers: json(pipeline), body }), status, message);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it.each([
    ['NUL, BEL and an ANSI escape', 'A\u0000\u0007\u001b[31m', 'data.firstName'],
    ['a right-to-left override', 'Ada\u202eecalevoL', 'data.firstName'],
  ])('POST /events with %s in a name: 400 naming the field', async (_name, firstName, field) => {
    const event = fallDetection(P);
    const body = JSON.stringify({ ...event, data: { ...event.data, firstName } });
    expectErrorBody(
      await call(h, 'POST', '/events', { headers: json(pipeline), body }),
      400,
      `${field} must not contain control characters or bidirectional override characters`,
    );
  });

  it('POST /webhooks/register with an unknown field (a token smuggled in the body): 400, nothing stored', async () => {
    const body = JSON.stringify({ projectId: P, url: h.receiver.url('/x'), types: ['FALL_DETECTION'], access_token: 'x' });
    expectErrorBody(
      await call(h, 'POST', '/webhooks/register', { headers: json(member), body }),
      400,
      'access_token is not an allowed field',
    );
  });
});

describe('encodings', () => {
  const gzipped = gzipSync(validEvent());

  it.each([
    ['charset=latin1', { 'content-type': 'application/json; charset=latin1' }, validEvent(), 415, /charset must be utf-8/],
    ['charset=koi8-r', { 'content-type': 'application/json; charset=koi8-r' }, validEvent(), 415, /charset must be utf-8/],
    ['text/plain', { 'content-type': 'text/plain' }, validEvent(), 415, 'Content-Type must be application/json'],
    [
      'a form body',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'projectId=hostile',
      415,
      'Content-Type must be application/json',
    ],
    ['no Content-Type', { 'content-type': '' }, validEvent(), 415, 'Content-Type must be application/json'],
    ['gzip that is not gzip', { 'content-encoding': 'gzip' }, validEvent(), 400, /could not be decompressed/],
    ['truncated gzip', { 'content-encoding': 'gzip' }, gzipped.subarray(0, gzipped.length - 12), 400, /could not be decompressed/],
    ['deflate garbage', { 'content-encoding': 'deflate' }, Buffer.from('not deflate at all'), 400, /could not be decompressed/],
    ['an unsupported Content-Encoding', { 'content-encoding': 'compress' }, validEvent(), 415, /Content-Encoding must be/],
    [
      'a gzip bomb (10 MB inflated)',
      { 'content-encoding': 'gzip' },
      gzipSync(`{"projectId":"${'a'.repeat(10_000_000)}"}`),
      413,
      /too large/,
    ],
  ])('POST /events with %s', async (_name, headers, body, status, message) => {
    const all: Record<string, string> = { ...json(pipeline), ...headers };
    if (all['content-type'] === '') delete all['content-type'];
    expectErrorBody(await call(h, 'POST', '/events', { headers: all, body }), status, message);
  });

  it('a valid gzip body is still accepted (the encoding is supported, not merely refused)', async () => {
    const answer = await call(h, 'POST', '/events', { headers: json(pipeline, { 'content-encoding': 'gzip' }), body: gzipped });
    expect(answer.status).toBe(202);
    await h.producer.queue.obliterate({ force: true }); // the corpus checks that nothing else is queued
  });
});

describe('paths and methods', () => {
  it.each([
    ['GET', '/webhooks/project/%E0%A4%A', 400, 'Request path contains malformed percent-encoding'],
    ['GET', '/webhooks/project/%ZZ', 400, 'Request path contains malformed percent-encoding'],
    ['DELETE', '/webhooks/project/%E0%A4%A', 400, 'Request path contains malformed percent-encoding'],
    ['POST', '/webhooks/test/project/%', 400, 'Request path contains malformed percent-encoding'],
    ['GET', '/webhooks/project/%ZZ/deliveries', 400, 'Request path contains malformed percent-encoding'],
    ['GET', '/webhooks/project/..%2F..%2Fadmin', 400, /projectId must be/],
    ['GET', '/webhooks/project/a%00b', 400, /projectId must be/],
    ['GET', `/webhooks/project/${'a'.repeat(129)}`, 400, /projectId must be/],
    ['GET', '/%ZZ', 404, /Cannot GET/],
    ['GET', '/nothing/here', 404, /Cannot GET/],
    ['PUT', '/events', 405, 'PUT is not allowed on /events; allowed: POST'],
    ['GET', '/events', 405, /allowed: POST/],
    ['DELETE', '/webhooks/register', 405, /allowed: POST/],
    ['PUT', '/webhooks/project/p1', 405, /allowed: GET, DELETE, HEAD/],
  ])('%s %s: %d', async (method, path, status, message) => {
    const answer = await call(h, method, path, { headers: { authorization: member } });
    expectErrorBody(answer, status, message);
    if (status === 405) expect(answer.headers.get('allow')).toMatch(/POST|GET/);
  });
});

describe('headers and HTTP framing (answered by Node before Express, still as JSON)', () => {
  const host = () => new URL(h.api.url).host;

  it.each([
    ['an oversized header (20 kB)', () => `GET /healthz HTTP/1.1\r\nHost: ${host()}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ['an oversized URL (20 kB)', () => `GET /webhooks/project/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: ${host()}\r\n\r\n`, 431],
    ['a NUL in a header value', () => `GET /healthz HTTP/1.1\r\nHost: ${host()}\r\nX-Bad: a\u0000b\r\n\r\n`, 400],
    [
      'Content-Length and Transfer-Encoding together (smuggling)',
      () => `POST /events HTTP/1.1\r\nHost: ${host()}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      400,
    ],
    ['not HTTP', () => 'HELLO\r\n\r\n', 400],
  ])('%s', async (_name, request, status) => {
    const answer = await rawRequest(h.api.url, request());
    expect(answer.status).toBe(status);
    expect(JSON.parse(answer.body)).toMatchObject({ statusCode: status });
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
  });

  it('an Idempotency-Key that is not a UUID: 400', async () => {
    expectErrorBody(
      await call(h, 'POST', '/events', { headers: json(pipeline, { 'idempotency-key': '../../etc' }), body: validEvent() }),
      400,
      /Idempotency-Key/,
    );
  });
});

describe('security headers', () => {
  const expectApiHeaders = (headers: Headers) => {
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('x-frame-options')).toBe('DENY');
    expect(headers.get('content-security-policy')).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
    expect(headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    expect(headers.get('referrer-policy')).toBe('no-referrer');
    expect(headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(headers.get('cross-origin-resource-policy')).toBe('same-origin');
    expect(headers.get('x-powered-by')).toBeNull();
  };

  it.each([
    ['GET', '/healthz', undefined, 200],
    ['GET', '/openapi.json', undefined, 200],
    ['GET', '/webhooks/project/hostile', undefined, 401],
    ['GET', '/nothing', 'member', 404],
    ['PUT', '/events', 'member', 405],
    ['GET', '/webhooks/project/%ZZ', 'member', 400],
  ])('on %s %s', async (method, path, who, status) => {
    const answer = await call(h, method, path, { headers: who ? { authorization: member } : {} });
    expect(answer.status).toBe(status);
    expectApiHeaders(answer.headers);
  });

  it('Swagger UI gets a policy that lets it run its own scripts, and nothing else', async () => {
    const answer = await call(h, 'GET', '/docs/');
    expect(answer.status).toBe(200);
    const csp = answer.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(answer.headers.get('x-powered-by')).toBeNull();
  });

  it('register and rotate, which return the secret, are never cached; neither are other authenticated answers', async () => {
    await h.createProject('hostile-cache', ['auth0|member']);
    const register = await call(h, 'POST', '/webhooks/register', {
      headers: json(member),
      body: JSON.stringify({ projectId: 'hostile-cache', url: h.receiver.url('/cache'), types: ['FALL_DETECTION'] }),
    });
    expect(register.status).toBe(201);
    expect(register.headers.get('cache-control')).toBe('no-store');
    const rotate = await call(h, 'POST', '/webhooks/project/hostile-cache/secret/rotate', { headers: { authorization: member } });
    expect(rotate.status).toBe(200);
    expect(rotate.json?.secret).toMatch(/^whsec_/);
    expect(rotate.headers.get('cache-control')).toBe('no-store');
    expect(
      (await call(h, 'GET', '/webhooks/project/hostile-cache', { headers: { authorization: member } })).headers.get('cache-control'),
    ).toBe('no-store');
    expectApiHeaders(rotate.headers);
  });
});

describe('metrics port', () => {
  it('listens on loopback by default (METRICS_HOST), not on every interface', async () => {
    const metrics = new URL(h.api.metricsUrl);
    expect(metrics.hostname).toBe('127.0.0.1');
    expect((await fetch(h.api.metricsUrl)).status).toBe(200);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) {
      // The same port on the machine's own network address is closed.
      await expect(fetch(`http://${external.address}:${metrics.port}/metrics`)).rejects.toThrow();
    }
  });
});
