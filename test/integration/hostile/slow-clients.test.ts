import { Writable } from 'node:stream';
import winston from 'winston';
import { startHarness, type Harness } from '../support/harness';
import { fallDetection } from '../support/fixtures';
import { rawConnection } from '../support/raw-http';

/**
 * Slow and broken clients: headers that never finish, bodies that trickle, uploads abandoned half-way, and many
 * of them at once. Each connection is answered (408 JSON) and closed within the configured timeouts, nothing
 * is enqueued, nothing is logged at error level, and the API keeps serving everyone else.
 */
/** Every line the API logs, as winston hands it to a transport. */
function captureLogs() {
  type Line = { level: string; message: string };
  const lines: Line[] = [];
  const stream = new Writable({ objectMode: true, write: (info: Line, _encoding, next) => (lines.push(info), next()) });
  return { lines, transport: new winston.transports.Stream({ stream, level: 'debug' }) };
}

let h: Harness;
let pipeline: string;
const capture = captureLogs();

beforeAll(async () => {
  h = await startHarness({ workers: 0, env: { HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000', LOG_LEVEL: 'debug' } });
  h.api.logger.add(capture.transport);
  pipeline = await h.token('pipeline|ingest', 'events:write:any');
});
afterAll(() => h.stop());
afterEach(async () => {
  expect(capture.lines.filter((line) => line.level === 'error')).toEqual([]);
  expect(await h.producer.queue.count()).toBe(0);
  expect((await fetch(`${h.api.url}/healthz`)).status).toBe(200);
});

const host = () => new URL(h.api.url).host;
const eventBody = () => JSON.stringify(fallDetection('slow'));
const postHead = (length: number) =>
  `POST /events HTTP/1.1\r\nHost: ${host()}\r\nAuthorization: Bearer ${pipeline}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

it('headers that never finish (slowloris): 408 JSON and closed after the headers timeout', async () => {
  const { socket, response, closedAfterMs } = rawConnection(h.api.url);
  socket.write(`GET /healthz HTTP/1.1\r\nHost: ${host()}\r\nX-Slow: `);
  const drip = setInterval(() => socket.writable && socket.write('a'), 200);
  try {
    const answer = await response;
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body)).toMatchObject({ statusCode: 408, error: 'Request Timeout' });
    expect(await closedAfterMs).toBeLessThan(10_000); // timeout 1 s, checked every second; generous for a busy machine
  } finally {
    clearInterval(drip);
    socket.destroy();
  }
});

it('a body that trickles: 408 and closed after the request timeout, nothing enqueued', async () => {
  const body = eventBody();
  const { socket, response, closedAfterMs } = rawConnection(h.api.url);
  socket.write(postHead(Buffer.byteLength(body)));
  let sent = 0;
  const drip = setInterval(() => socket.writable && sent < body.length - 1 && socket.write(body[sent++]!), 300);
  try {
    const answer = await response;
    expect(answer.status).toBe(408);
    expect(await closedAfterMs).toBeLessThan(12_000);
  } finally {
    clearInterval(drip);
    socket.destroy();
  }
});

it('an upload abandoned half-way: nothing enqueued, logged at debug level, not as an error', async () => {
  const body = eventBody();
  const { socket, closedAfterMs } = rawConnection(h.api.url);
  socket.write(postHead(Buffer.byteLength(body)) + body.slice(0, body.length / 2));
  await new Promise((resolve) => setTimeout(resolve, 200)); // the API is reading the body
  socket.destroy();
  await closedAfterMs;
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(capture.lines.some((line) => line.message === 'client aborted the request')).toBe(true);
});

it('200 slow connections at once do not stop the API from serving a normal client', async () => {
  const slow = Array.from({ length: 200 }, () => {
    const connection = rawConnection(h.api.url);
    connection.socket.write(`GET /healthz HTTP/1.1\r\nHost: ${host()}\r\n`);
    return connection;
  });
  try {
    const answer = await fetch(`${h.api.url}/webhooks/project/slow`, { headers: { authorization: `Bearer ${await h.token('auth0|x')}` } });
    expect(answer.status).toBe(404);
    // And every slow one is answered and closed by the server itself.
    const closed = await Promise.all(slow.map((connection) => connection.closedAfterMs));
    expect(Math.max(...closed)).toBeLessThan(15_000);
  } finally {
    for (const connection of slow) connection.socket.destroy();
  }
});
