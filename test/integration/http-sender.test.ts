import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpSender } from '../../apps/worker/src/delivery/http-sender';

/** The worker's HTTP client against a real loopback server answering in the awkward ways receivers do. */
describe('HttpSender', () => {
  let server: Server;
  let base: string;
  const sender = new HttpSender(400, true);

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/no-content') return void res.writeHead(204).end();
        if (req.url === '/error-with-big-body') return void res.writeHead(500).end('x'.repeat(5_000_000));
        if (req.url === '/redirect') return void res.writeHead(302, { location: '/no-content' }).end();
        if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2_000);
        if (req.url === '/stalls-mid-body') {
          res.writeHead(200);
          return void res.write('partial'); // never ends
        }
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    sender.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const send = (path: string) => sender.send({ url: base + path, body: '{"a":1}', headers: { 'content-type': 'application/json' } });

  it('a 2xx, with or without a body, is delivered', async () => {
    expect(await send('/ok')).toMatchObject({ ok: true, statusCode: 200 });
    expect(await send('/no-content')).toMatchObject({ ok: true, statusCode: 204 });
  });

  it('a non-2xx is a failure naming the status, its body drained (a large one too)', async () => {
    expect(await send('/error-with-big-body')).toMatchObject({ ok: false, statusCode: 500, error: 'receiver answered 500' });
  });

  it('a redirect is not followed: it is a failure', async () => {
    expect(await send('/redirect')).toMatchObject({ ok: false, statusCode: 302, error: 'receiver answered 302' });
  });

  it('the timeout covers the whole exchange: a late answer and a body that never ends both fail at the timeout', async () => {
    for (const path of ['/slow', '/stalls-mid-body']) {
      const result = await send(path);
      expect(result).toMatchObject({ ok: false });
      if (!result.ok) expect(result.error).toMatch(/ETIMEDOUT/);
      expect(result.durationMs).toBeGreaterThanOrEqual(350);
      expect(result.durationMs).toBeLessThan(1_500);
    }
  });

  it('an unreachable receiver is a failure naming the cause', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await sender.send({ url: `http://127.0.0.1:${port}/`, body: '{}', headers: {} });
    expect(result).toMatchObject({ ok: false });
    if (!result.ok) expect(result.error).toMatch(/ECONNREFUSED/);
  });
});
