import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker, type Job } from 'bullmq';
import { ephemeralEncryptionKey, spawnUntilReady, startLocalStack, type LocalStack } from '@novee/devkit';
import { EventProducer, createRedisConnection } from '@novee/shared';
import { HttpSender } from '@novee/worker/dist/delivery/http-sender';
import { atFixedRate, percentile, round, runPool } from './stats';

/**
 * npm run bench: starts its own Redis, MongoDB-compatible server, receiver (own process), API and worker
 * processes, and measures in one run (every phase bounded in count and time; under 5 minutes in all):
 *   a) BullMQ no-op jobs/s on that Redis      b) the receiver's max req/s with a plain keep-alive client
 *   b2) the same receiver driven by the worker's own HTTP sender (got) alone: the delivery client's ceiling
 *   b3) a BullMQ worker whose jobs only POST through that sender: the floor cost of the architecture
 *   c) end-to-end deliveries/s (drain of a preloaded backlog: queue paused, filled, resumed) to one endpoint
 *      and spread over many, and enqueue->delivered p50/p99 at a steady rate, with 1 and 2 worker processes
 *   d) API POST /events p50/p99 at a fixed rate   e) project B's p99 while project A's receiver hangs under a flood
 * Prints a table and writes JSON to bench/results/.
 */
const N_NOOP = 20_000;
const N_RECEIVER = 20_000;
const N_E2E = 5_000;
const N_BULLMQ_SENDER = 10_000;
/** The worker's default concurrency, used for (a) and (b2) too so that they are its ceilings. */
const CONCURRENCY = 100;
/** (c) over many endpoints: one project (and receiver path) each; the normal case for a shared service. */
const MANY_ENDPOINTS = 20;
const PHASE_LIMIT_MS = 60_000;
const STEADY_RATE = 200;
const STEADY_SECONDS = 5;

type Row = { measure: string; value: number; unit: string; note?: string };
const rows: Row[] = [];
const record = (measure: string, value: number, unit: string, note?: string) => {
  rows.push({ measure, value: round(value), unit, ...(note && { note }) });
  console.log(`  ${measure}: ${round(value)} ${unit}${note ? ` (${note})` : ''}`);
};

async function main(): Promise<void> {
  const started = Date.now();
  const stack = await startLocalStack({
    secretsEncryptionKeys: ephemeralEncryptionKey(),
    // Production log level (info): logging is part of the cost. (d) sends 200 events/s to one project, above
    // the default per-project ingestion limit (100/s), so the limit is raised: the limiter still runs on every request.
    env: { RETRY_SCHEDULE: 'none', RATE_LIMIT_EVENTS_PER_SECOND: '100000' },
  });
  const receiver = await spawnUntilReady(process.execPath, [join(__dirname, 'bench-receiver.js')], /^LISTENING (\d+)$/, {
    name: 'bench receiver',
  });
  const receiverUrl = `http://127.0.0.1:${receiver.match[1]}`;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const redis = createRedisConnection(stack.env.REDIS_URL!, 'worker');
  const producer = new EventProducer({ connection: redis, prefix: 'novee' });
  try {
    console.log('a) BullMQ no-op jobs/s');
    const noop = await bullmqNoop(stack.env.REDIS_URL!);
    record('a) BullMQ no-op jobs', noop, 'jobs/s', `${N_NOOP} jobs, concurrency ${CONCURRENCY}`);

    console.log('b) receiver max req/s');
    const receiverMax = await receiverMaxRate(receiverUrl, agent);
    record('b) receiver, keep-alive client', receiverMax, 'req/s', `${N_RECEIVER} requests, 50 concurrent`);
    const ceiling = Math.min(noop, receiverMax);

    console.log("b2) the worker's HTTP sender (got) alone");
    const senderMax = await senderMaxRate(receiverUrl);
    record(
      "b2) worker's HTTP sender alone",
      senderMax,
      'req/s',
      `${N_RECEIVER} requests, ${CONCURRENCY} concurrent, ${round((100 * senderMax) / ceiling)}% of min(a,b)`,
    );

    console.log('b3) BullMQ + that sender, nothing else');
    const floor = await bullmqPlusSender(stack.env.REDIS_URL!, receiverUrl);
    record(
      'b3) BullMQ worker + HTTP sender only',
      floor,
      'jobs/s',
      `${N_BULLMQ_SENDER} jobs, concurrency ${CONCURRENCY}, ${round((100 * floor) / ceiling)}% of min(a,b)`,
    );

    const member = await stack.issuer.issueToken({ sub: 'bench|owner' });
    const manyProjects = Array.from({ length: MANY_ENDPOINTS }, (_, i) => `bench-many-${i}`);
    for (const projectId of ['bench-e2e', 'bench-a', 'bench-b', ...manyProjects]) {
      await stack.addProject(projectId, ['bench|owner']);
      const path = projectId === 'bench-a' ? '/hang-a' : `/${projectId}`;
      const status = await post(
        `${stack.apiUrl}/webhooks/register`,
        JSON.stringify({ projectId, url: receiverUrl + path, types: ['FALL_DETECTION'] }),
        agent,
        member,
      );
      if (status !== 201) throw new Error(`register ${projectId} answered ${status}`);
    }

    const drainRates: Record<string, number> = {};
    for (const workers of [1, 2]) {
      await stack.startWorker(); // one more each round: 1, then 2
      console.log(`c) end to end with ${workers} worker process(es)`);
      for (const [label, projects] of [
        ['1 endpoint', ['bench-e2e']],
        [`${MANY_ENDPOINTS} endpoints`, manyProjects],
      ] as const) {
        const rate = await drain(producer, receiverUrl, projects, agent);
        drainRates[`${workers}/${label}`] = rate;
        record(
          `c) deliveries, ${workers} worker(s), ${label}`,
          rate,
          'deliveries/s',
          `${N_E2E} events, ${round((100 * rate) / ceiling)}% of min(a,b)`,
        );
      }
      const steady = await steadyLatency(producer, receiverUrl, agent);
      record(`c) enqueue->delivered p50, ${workers} worker(s)`, steady.p50, 'ms', `${STEADY_RATE}/s for ${STEADY_SECONDS} s`);
      record(`c) enqueue->delivered p99, ${workers} worker(s)`, steady.p99, 'ms');
    }

    console.log('d) API POST /events at a fixed rate');
    const pipeline = await stack.issuer.issueToken({ sub: 'bench|pipeline', scope: 'events:write:any' });
    const ingest = await apiLatency(stack, pipeline, agent);
    record('d) POST /events p50', ingest.p50, 'ms', `${STEADY_RATE}/s for ${STEADY_SECONDS} s`);
    record('d) POST /events p99', ingest.p99, 'ms');

    console.log("e) project B while project A's receiver hangs under a flood");
    const isolated = await isolation(producer, receiverUrl, agent);
    record('e) project B p99 while A hangs', isolated.p99, 'ms', `${isolated.flood} A events queued, B at 20/s for ${STEADY_SECONDS} s`);

    const ratio = drainRates[`1/${MANY_ENDPOINTS} endpoints`]! / ceiling;
    record(`(c) / min(a,b), 1 worker, ${MANY_ENDPOINTS} endpoints`, ratio * 100, '%');
    record(
      '(c) / min(a,b), 1 worker, 1 endpoint',
      (drainRates['1/1 endpoint']! / ceiling) * 100,
      '%',
      'bounded by the per-endpoint in-flight cap',
    );
    record('(b2) / min(a,b)', (senderMax / ceiling) * 100, '%', 'what got alone reaches: no delivery pipeline can pass it');
    record('(b3) / min(a,b)', (floor / ceiling) * 100, '%', 'BullMQ + got with nothing else: the architecture at its barest');
    console.table(rows);
    const result = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: round(totalmem() / 2 ** 30), node: process.version },
      config: { workerConcurrency: CONCURRENCY, endpointMaxInFlight: 10, deliveryTimeoutMs: 5000, manyEndpoints: MANY_ENDPOINTS },
      rows,
      ratioOneWorker: round(ratio, 3),
      seconds: round((Date.now() - started) / 1000),
    };
    const dir = join(__dirname, '..', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `bench-${result.date.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`written ${file}`);
  } finally {
    agent.destroy();
    await producer.close();
    redis.disconnect();
    await receiver.stop();
    await stack.stop();
  }
}

/** Jobs/s of a BullMQ worker at CONCURRENCY running `processor` over `count` preloaded jobs with `data`. */
async function bullmqRate(redisUrl: string, count: number, data: object, processor: (job: Job) => Promise<unknown>): Promise<number> {
  const connection = createRedisConnection(redisUrl, 'worker');
  const name = `bench-${randomUUID().slice(0, 8)}`;
  const queue = new Queue(name, { connection, prefix: 'bench' });
  for (let i = 0; i < count; i += 1_000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1_000, count - i) }, () => ({ name: 'bench', data, opts: { removeOnComplete: true } })),
    );
  }
  let done = 0;
  let allDone = () => {};
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const started = Date.now();
  const worker = new Worker(name, processor, { connection, prefix: 'bench', concurrency: CONCURRENCY });
  worker.on('completed', () => ++done === count && allDone());
  await Promise.race([finished, sleep(PHASE_LIMIT_MS)]);
  const rate = (done * 1000) / (Date.now() - started);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return rate;
}

const bullmqNoop = (redisUrl: string) => bullmqRate(redisUrl, N_NOOP, {}, () => Promise.resolve(undefined));

/** A BullMQ worker whose jobs (an event's payload) only POST through the worker's HttpSender: BullMQ + got at their barest. */
const bullmqPlusSender = (redisUrl: string, receiverUrl: string) =>
  withPlainSender(receiverUrl, (send) => bullmqRate(redisUrl, N_BULLMQ_SENDER, fallData(Date.now()), send));

async function receiverMaxRate(receiverUrl: string, agent: Agent): Promise<number> {
  const body = JSON.stringify(fallData(Date.now()));
  const started = Date.now();
  const done = await runPool(N_RECEIVER, 50, started + PHASE_LIMIT_MS, async () => {
    await post(`${receiverUrl}/plain`, body, agent);
  });
  return (done * 1000) / (Date.now() - started);
}

/** The worker's HttpSender (got, SSRF guard and all), nothing else: the most any delivery pipeline could do. */
const senderMaxRate = (receiverUrl: string) =>
  withPlainSender(receiverUrl, async (send) => {
    const started = Date.now();
    const done = await runPool(N_RECEIVER, CONCURRENCY, started + PHASE_LIMIT_MS, send);
    return (done * 1000) / (Date.now() - started);
  });

/** Lends `use` a function that POSTs an event's payload to the receiver through the worker's HttpSender (non-2xx throws). */
async function withPlainSender<T>(receiverUrl: string, use: (send: () => Promise<void>) => Promise<T>): Promise<T> {
  const sender = new HttpSender(5_000, true);
  const request = {
    url: `${receiverUrl}/plain`,
    body: JSON.stringify(fallData(Date.now())),
    headers: { 'content-type': 'application/json' },
  };
  try {
    return await use(async () => {
      const result = await sender.send(request);
      if (!result.ok) throw new Error(`sender: ${result.error}`);
    });
  } finally {
    sender.close();
  }
}

/** Delivery throughput: preload a backlog (spread over `projects`) on the paused queue, resume, time the drain. */
async function drain(producer: EventProducer, receiverUrl: string, projects: readonly string[], agent: Agent): Promise<number> {
  await post(`${receiverUrl}/reset`, '', agent);
  await producer.queue.pause();
  await runPool(N_E2E, 50, Date.now() + PHASE_LIMIT_MS, async (i) => {
    await producer.enqueue(fallEvent(projects[i % projects.length]!));
  });
  const started = Date.now();
  await producer.queue.resume();
  const count = await waitForCount(
    receiverUrl,
    projects.length === 1 ? { path: `/${projects[0]}` } : { prefix: '/bench-many-' },
    N_E2E,
    started + PHASE_LIMIT_MS,
    agent,
  );
  return (count * 1000) / (Date.now() - started);
}

async function steadyLatency(producer: EventProducer, receiverUrl: string, agent: Agent) {
  await post(`${receiverUrl}/reset`, '', agent);
  await atFixedRate(STEADY_RATE, STEADY_SECONDS, async () => {
    await producer.enqueue(fallEvent('bench-e2e'));
  });
  await waitForCount(receiverUrl, { path: '/bench-e2e' }, STEADY_RATE * STEADY_SECONDS, Date.now() + 20_000, agent);
  return stats(receiverUrl, { path: '/bench-e2e' }, agent);
}

async function apiLatency(stack: LocalStack, token: string, agent: Agent) {
  const latencies: number[] = [];
  await atFixedRate(STEADY_RATE, STEADY_SECONDS, async () => {
    const started = performance.now();
    const status = await post(`${stack.apiUrl}/events`, JSON.stringify(fallEvent('bench-e2e')), agent, token);
    if (status !== 202) throw new Error(`POST /events answered ${status}`);
    latencies.push(performance.now() - started);
  });
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function isolation(producer: EventProducer, receiverUrl: string, agent: Agent) {
  await post(`${receiverUrl}/reset`, '', agent);
  const flood = 1_000;
  await runPool(flood, 50, Date.now() + PHASE_LIMIT_MS, async () => {
    await producer.enqueue(fallEvent('bench-a'));
  });
  await atFixedRate(20, STEADY_SECONDS, async () => {
    await producer.enqueue(fallEvent('bench-b'));
  });
  await waitForCount(receiverUrl, { path: '/bench-b' }, 20 * STEADY_SECONDS, Date.now() + 20_000, agent);
  return { ...(await stats(receiverUrl, { path: '/bench-b' }, agent)), flood };
}

// --- helpers ---------------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function fallData(enqueuedAt: number) {
  const userUUID = randomUUID();
  return {
    userUUID,
    reasons: ['bench'],
    happenedAt: new Date(enqueuedAt).toISOString(),
    email: 'bench@example.com',
    firstName: 'Bench',
    lastName: 'Mark',
  };
}

function fallEvent(projectId: string) {
  const data = fallData(Date.now());
  return { projectId, userUUID: data.userUUID, webhookType: 'FALL_DETECTION' as const, data };
}

function post(url: string, body: string, agent: Agent, token?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

type PathFilter = { path: string } | { prefix: string };

async function stats(receiverUrl: string, filter: PathFilter, agent: Agent): Promise<{ count: number; p50: number; p99: number }> {
  return new Promise((resolve, reject) => {
    request(`${receiverUrl}/stats?${new URLSearchParams(filter).toString()}`, { agent }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve(JSON.parse(text) as { count: number; p50: number; p99: number }));
    })
      .on('error', reject)
      .end();
  });
}

async function waitForCount(receiverUrl: string, filter: PathFilter, count: number, deadline: number, agent: Agent): Promise<number> {
  for (;;) {
    const seen = (await stats(receiverUrl, filter, agent)).count;
    if (seen >= count || Date.now() > deadline) return seen;
    await sleep(20);
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(`bench failed: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
