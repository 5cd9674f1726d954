import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { percentile } from './stats';

/**
 * The benchmark's receiver, in its own process: answers 200 at once (paths starting /hang never answer),
 * and counts, per path and event type (X-Event-Type), the deliveries it got; for those whose body carries a
 * happenedAt (FALL_DETECTION; set to the send time by the benchmark, same machine, same clock) it records
 * send-to-receipt latency. GET /stats?path=/x (one path) or ?prefix=/x (every path starting so), optionally
 * &type=FALL_DETECTION; POST /reset.
 */
const seen = new Map<string, { count: number; latencies: number[] }>();
const keyOf = (path: string, type: string) => `${type} ${path}`;

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (req.method === 'GET' && url.pathname === '/stats') {
    const prefix = url.searchParams.get('prefix');
    const path = url.searchParams.get('path') ?? '';
    const type = url.searchParams.get('type');
    let count = 0;
    const values: number[] = [];
    for (const [key, entry] of seen) {
      const [entryType, entryPath] = key.split(' ') as [string, string];
      if (type !== null && entryType !== type) continue;
      if (prefix === null ? entryPath !== path : !entryPath.startsWith(prefix)) continue;
      count += entry.count;
      values.push(...entry.latencies);
    }
    return void res.end(JSON.stringify({ count, p50: percentile(values, 50), p99: percentile(values, 99), max: Math.max(0, ...values) }));
  }
  if (req.method === 'POST' && url.pathname === '/reset') {
    seen.clear();
    return void res.end('{}');
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    if (url.pathname.startsWith('/hang')) return; // hold the connection until the client gives up
    const key = keyOf(url.pathname, String(req.headers['x-event-type'] ?? 'none'));
    const entry = seen.get(key) ?? { count: 0, latencies: [] };
    seen.set(key, entry);
    entry.count++;
    const happenedAt = Date.parse((JSON.parse(Buffer.concat(chunks).toString() || '{}') as { happenedAt?: string }).happenedAt ?? '');
    if (!Number.isNaN(happenedAt)) entry.latencies.push(Date.now() - happenedAt);
    res.end('ok');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`LISTENING ${(server.address() as AddressInfo).port}`));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
