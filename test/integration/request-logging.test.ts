import { randomUUID } from 'node:crypto';
import { SecretCipher } from '@novee/shared';
import { startLocalStack, WebhookReceiver, type LocalStack } from '@novee/devkit';
import { eventually } from './support/harness';
import { fallDetection } from './support/fixtures';

// The API and a worker as real processes (built by `npm test`), their stdout read line by line, as a log
// pipeline would read it.
type LogLine = Record<string, unknown> & { service?: string; message?: string };
const lines: LogLine[] = [];
const rawOutput: string[] = [];
let stack: LocalStack;
let receiver: WebhookReceiver;
let member: string;

beforeAll(async () => {
  receiver = await WebhookReceiver.start();
  const id = randomUUID().slice(0, 8);
  stack = await startLocalStack({
    secretsEncryptionKeys: SecretCipher.generateKeyEntry('test'),
    env: { LOG_LEVEL: 'info', MONGODB_DB: `test_${id}`, QUEUE_PREFIX: `test_${id}` },
    onLogLine: (line) => {
      rawOutput.push(line);
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        // not a JSON line; rawOutput still has it for the secrecy check
      }
    },
  });
  await stack.startWorker();
  await stack.addProject('logged', ['auth0|member']);
  member = await stack.issuer.issueToken({ sub: 'auth0|member' });
});
afterAll(async () => {
  await stack?.stop();
  await receiver?.stop();
});

const call = (
  method: string,
  path: string,
  { token, body, headers = {} }: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
) =>
  fetch(stack.apiUrl + path, {
    method,
    headers: {
      ...headers,
      ...(token && { authorization: `Bearer ${token}` }),
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** The API's access-log line for the request with this id (it is written once the response is sent). */
const accessLine = (requestId: string) =>
  eventually(() => lines.find((line) => line.service === 'api' && line.message === 'request' && line.requestId === requestId));

it('one JSON access-log line per request, with the request id the caller sent, returned in X-Request-Id', async () => {
  const res = await call('POST', '/webhooks/register', {
    token: member,
    headers: { 'x-request-id': 'client-req_0001' },
    body: { projectId: 'logged', url: receiver.url('/logged'), types: ['FALL_DETECTION'] },
  });
  expect(res.status).toBe(201);
  expect(res.headers.get('x-request-id')).toBe('client-req_0001');
  const { secret } = (await res.json()) as { secret: string };

  const line = await accessLine('client-req_0001');
  expect(line).toMatchObject({
    level: 'info',
    method: 'POST',
    route: '/webhooks/register',
    path: '/webhooks/register',
    status: 201,
    projectId: 'logged',
    caller: 'auth0|member',
  });
  expect(typeof line.ms).toBe('number');
  expect(lines.filter((l) => l.requestId === 'client-req_0001')).toHaveLength(1);

  // A 409 on the same project (and its path-named project for the GET) are logged too.
  const again = await call('POST', '/webhooks/register', {
    token: member,
    body: { projectId: 'logged', url: receiver.url('/x'), types: ['FALL_DETECTION'] },
  });
  expect(again.status).toBe(409);
  expect(await accessLine(again.headers.get('x-request-id')!)).toMatchObject({ status: 409, projectId: 'logged' });
  const read = await call('GET', '/webhooks/project/logged', { token: member });
  expect(await accessLine(read.headers.get('x-request-id')!)).toMatchObject({
    status: 200,
    route: '/webhooks/project/:projectId',
    projectId: 'logged',
  });

  // Neither the token nor the webhook secret ever reaches the log.
  const output = rawOutput.join('\n');
  expect(output).not.toContain(member);
  expect(output).not.toContain(secret);
  expect(output.toLowerCase()).not.toContain('bearer');
});

it('a missing or unacceptable X-Request-Id is replaced by a generated one', async () => {
  const none = await call('GET', '/webhooks/project/logged');
  const generated = none.headers.get('x-request-id')!;
  expect(generated).toMatch(/^[0-9a-f-]{36}$/);
  expect(await accessLine(generated)).toMatchObject({ method: 'GET', status: 401, route: null, path: '/webhooks/project/logged' });

  for (const unacceptable of ['has spaces', 'x'.repeat(129), 'quote"brace{']) {
    const res = await call('GET', '/healthz', { headers: { 'x-request-id': unacceptable } });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  }
});

it('403 for a missing scope names the scope; the access line says 403', async () => {
  const res = await call('POST', '/events', { token: member, body: fallDetection('logged') });
  expect(res.status).toBe(403);
  expect(await res.json()).toEqual({
    statusCode: 403,
    error: 'Forbidden',
    message: 'This call needs a token with the scope events:write or events:write:any',
  });
  expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  expect(await accessLine(res.headers.get('x-request-id')!)).toMatchObject({ status: 403, route: '/events', projectId: 'logged' });
});

it('POST /events: the access line carries the event id, and so does every worker line for that event', async () => {
  const pipeline = await stack.issuer.issueToken({ sub: 'pipeline@clients', scope: 'events:write:any' });
  const res = await call('POST', '/events', { token: pipeline, body: fallDetection('logged') });
  expect(res.status).toBe(202);
  const { eventId } = (await res.json()) as { eventId: string };
  expect(await accessLine(res.headers.get('x-request-id')!)).toMatchObject({ status: 202, projectId: 'logged', eventId });

  await receiver.waitFor(1, { path: '/logged' });
  const workerLine = await eventually(() =>
    lines.find((line) => line.service === 'worker' && line.message === 'delivery attempt' && line.eventId === eventId),
  );
  expect(workerLine).toMatchObject({ projectId: 'logged', status: 'delivered', webhookType: 'FALL_DETECTION' });
  // No worker line names this project without naming the event.
  const projectLines = lines.filter((line) => line.service === 'worker' && line.projectId === 'logged');
  expect(projectLines.length).toBeGreaterThan(0);
  expect(projectLines.filter((line) => line.eventId !== eventId)).toEqual([]);
});
