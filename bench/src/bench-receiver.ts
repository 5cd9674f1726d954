import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { percentile } from './stats';

/**
 * The benchmark's receiver, in its own process: answers 200 at once (paths starting /hang never answer),
 * and records, per path, enqueue-to-receipt latency read from the event's happenedAt (set to the enqueue
 * time by the benchmark; same machine, same clock). GET /stats?path=/x (one path) or ?prefix=/x (every path
 * starting so, for runs over many endpoints), POST /reset.
 */
const latencies = new Map<string, number[]>();

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (req.method === 'GET' && url.pathname === '/stats') {
    const prefix = url.searchParams.get('prefix');
    const values =
      prefix === null
        ? (latencies.get(url.searchParams.get('path') ?? '') ?? [])
        : [...latencies].flatMap(([path, list]) => (path.startsWith(prefix) ? list : []));
    return void res.end(
      JSON.stringify({ count: values.length, p50: percentile(values, 50), p99: percentile(values, 99), max: Math.max(0, ...values) }),
    );
  }
  if (req.method === 'POST' && url.pathname === '/reset') {
    latencies.clear();
    return void res.end('{}');
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    if (url.pathname.startsWith('/hang')) return; // hold the connection until the client gives up
    const happenedAt = Date.parse((JSON.parse(Buffer.concat(chunks).toString() || '{}') as { happenedAt?: string }).happenedAt ?? '');
    if (!Number.isNaN(happenedAt)) {
      const list = latencies.get(url.pathname) ?? [];
      list.push(Date.now() - happenedAt);
      latencies.set(url.pathname, list);
    }
    res.end('ok');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`LISTENING ${(server.address() as AddressInfo).port}`));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
