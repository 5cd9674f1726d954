import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker, type Job } from 'bullmq';
import { ephemeralEncryptionKey, spawnUntilReady, startLocalStack } from '@novee/devkit';
import { EventProducer, createRedisConnection } from '@novee/shared';
import { batchIngestRates } from './batch-ingest';
import { HttpSender } from '@novee/worker/dist/delivery/http-sender';
import { fallData, post, sleep } from './bench-client';
import {
  apiAnswerTime,
  apiToReceiverLatency,
  drain,
  fallDuringVitalBacklog,
  isolation,
  producerLatency,
  type PhaseContext,
} from './delivery-phases';
import { ProcessMetrics } from './process-metrics';
import { round, runPool } from './stats';

/**
 * npm run bench: starts its own Redis (append-only file, fsync every second: production durability),
 * MongoDB-compatible server (mongo-java-server on an H2 file), receiver (own process), API and worker processes,
 * and measures in one run (every phase bounded in count and time; about a minute and a half in all):
 *   a) BullMQ no-op jobs/s on that Redis      b) the receiver's max req/s with a plain keep-alive client
 *   b2) the same receiver driven by the worker's own HTTP sender (got) alone: the delivery client's ceiling
 *   b3) a BullMQ worker whose jobs only POST through that sender: the floor cost of the architecture
 *   c) deliveries/s (drain of a preloaded backlog: queue paused, filled, resumed) to one endpoint and spread
 *      over many, and enqueue->delivered p50/p99 at a steady rate, with 1 and 2 worker processes
 *   d) POST /events answer time p50/p99 at 200 and 1,000 requests/s, with the API's event-loop delay
 *   e) project B's p99 while project A's receiver hangs under a flood, and with A idle
 *   f) POST /events -> receiver p50/p99 at 200 events/s with one worker, with both processes' event-loop delay
 *   g) FALL_DETECTION POST /events -> receiver p50/p99 while a 5,000-event VITAL_THRESHOLD backlog drains
 *   h) events/s accepted through POST /events/batch and EventProducer.enqueueMany (500 per batch)
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
const FAST_RATE = 1_000;
const FAST_SECONDS = 3;
const VITAL_BACKLOG = 5_000;
/** Below a project's per-second share (50), so the falls stay in the normal lane as a real patient's would. */
const FALL_RATE = 40;
const N_BATCH = 10_000;
const BATCH_SIZE = 500;

type Row = { measure: string; value: number; unit: string; note?: string };
const rows: Row[] = [];
const record = (measure: string, value: number, unit: string, note?: string) => {
  rows.push({ measure, value: round(value), unit, ...(note && { note }) });
  console.log(`  ${measure}: ${round(value)} ${unit}${note ? ` (${note})` : ''}`);
};

async function main(): Promise<void> {
  const started = Date.now();
  // Production durability: Redis appends every write to its AOF and fsyncs it every second; records go to a file.
  const dataDir = mkdtempSync(join(tmpdir(), 'novee-bench-'));
  const stack = await startLocalStack({
    dataDir,
    secretsEncryptionKeys: ephemeralEncryptionKey(),
    // Production log level (info): logging is part of the cost. (d) sends up to 1,000 events/s, above the
    // default per-project ingestion limit (100/s), so the limit is raised: the limiter still runs on every request.
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
    console.log(`durability: Redis ${stack.describes.redis}; MongoDB ${stack.describes.mongodb}`);
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
    // (h)'s projects have no webhook: the worker skips their events, so the row measures ingestion alone.
    const batchProjects = Array.from({ length: MANY_ENDPOINTS }, (_, i) => `bench-batch-${i}`);
    for (const projectId of batchProjects) await stack.addProject(projectId, ['bench|owner']);
    const manyProjects = Array.from({ length: MANY_ENDPOINTS }, (_, i) => `bench-many-${i}`);
    for (const projectId of ['bench-e2e', 'bench-a', 'bench-b', ...manyProjects]) {
      await stack.addProject(projectId, ['bench|owner']);
      const path = projectId === 'bench-a' ? '/hang-a' : `/${projectId}`;
      const status = await post(
        `${stack.apiUrl}/webhooks/register`,
        JSON.stringify({ projectId, url: receiverUrl + path, types: ['FALL_DETECTION', 'VITAL_THRESHOLD'] }),
        agent,
        member,
      );
      if (status !== 201) throw new Error(`register ${projectId} answered ${status}`);
    }
    const token = await stack.issuer.issueToken({ sub: 'bench|pipeline', scope: 'events:write:any' });
    const ctx: PhaseContext = { producer, receiverUrl, apiUrl: stack.apiUrl, token, agent, limitMs: PHASE_LIMIT_MS };
    const apiProcess = new ProcessMetrics(stack.apiMetricsUrl);

    const drainRates: Record<string, number> = {};
    let workerProcess: ProcessMetrics | undefined;
    for (const workers of [1, 2]) {
      await stack.startWorker(); // one more each round: 1, then 2
      workerProcess ??= new ProcessMetrics(stack.workerMetricsUrls[0]!);
      console.log(`c) end to end with ${workers} worker process(es)`);
      for (const [label, projects] of [
        ['1 endpoint', ['bench-e2e']],
        [`${MANY_ENDPOINTS} endpoints`, manyProjects],
      ] as const) {
        const rate = await drain(ctx, projects, N_E2E);
        drainRates[`${workers}/${label}`] = rate;
        record(
          `c) deliveries, ${workers} worker(s), ${label}`,
          rate,
          'deliveries/s',
          `${N_E2E} events, ${round((100 * rate) / ceiling)}% of min(a,b)`,
        );
      }
      const steady = await producerLatency(ctx, 'bench-e2e', STEADY_RATE, STEADY_SECONDS);
      record(
        `c) enqueue->delivered p50, ${workers} worker(s)`,
        steady.p50,
        'ms',
        `${STEADY_RATE}/s for ${STEADY_SECONDS} s, EventProducer`,
      );
      record(`c) enqueue->delivered p99, ${workers} worker(s)`, steady.p99, 'ms');
      if (workers > 1) break;

      // The rest with one worker, as the peer comparison in issue 14 was made.
      console.log('f) POST /events -> receiver at a fixed rate, 1 worker');
      await Promise.all([apiProcess.start(), workerProcess.start()]);
      const whole = await apiToReceiverLatency(ctx, 'bench-e2e', STEADY_RATE, STEADY_SECONDS);
      const [api, worker] = await Promise.all([apiProcess.read(), workerProcess.read()]);
      const events = STEADY_RATE * STEADY_SECONDS;
      record('f) POST /events -> receiver p50', whole.p50, 'ms', `${STEADY_RATE}/s for ${STEADY_SECONDS} s, 1 worker`);
      record('f) POST /events -> receiver p99', whole.p99, 'ms');
      record('f) event-loop delay p99, API', api.loopP99, 'ms', `max ${round(api.loopMax)} ms`);
      record('f) event-loop delay p99, worker', worker.loopP99, 'ms', `max ${round(worker.loopMax)} ms`);
      record('f) CPU per event, API', api.cpuMs / events, 'ms', 'process CPU (user + system) / events');
      record('f) CPU per event, worker', worker.cpuMs / events, 'ms', 'includes writing its delivery record');

      console.log('d) POST /events answer time at fixed rates');
      // At 1,000/s the API's own answer time (events for projects without a webhook: the worker only skips them),
      // then the same rate with every event delivered too, all processes sharing the machine's cores.
      for (const [rate, seconds, projects, label] of [
        [STEADY_RATE, STEADY_SECONDS, ['bench-e2e'], ''],
        [FAST_RATE, FAST_SECONDS, batchProjects, ''],
        [FAST_RATE, FAST_SECONDS, manyProjects, ', delivered too'],
      ] as const) {
        // Steady state: each project's first event (its members read from MongoDB, then cached) before timing.
        await apiAnswerTime(ctx, projects, 50, projects.length / 50);
        await apiProcess.start();
        const answer = await apiAnswerTime(ctx, projects, rate, seconds);
        const api = await apiProcess.read();
        const what = label
          ? `every event delivered to ${projects.length} endpoints`
          : projects === batchProjects
            ? 'no webhook: the worker skips them'
            : 'delivered';
        record(`d) POST /events p50 at ${rate}/s${label}`, answer.p50, 'ms', `${rate * seconds} requests, ${what}`);
        record(`d) POST /events p99 at ${rate}/s${label}`, answer.p99, 'ms');
        record(`d) event-loop delay p99, API, ${rate}/s${label}`, api.loopP99, 'ms', `max ${round(api.loopMax)} ms`);
        record(`d) CPU per request, API, ${rate}/s${label}`, api.cpuMs / (rate * seconds), 'ms');
        record(`d) event-loop delay p99, bench client, ${rate}/s${label}`, answer.clientDelayP99, 'ms', 'the load generator itself');
        await queueDrained(producer, Date.now() + 20_000);
      }
      await sleep(1_000); // let (d)'s deliveries finish before the next phase

      console.log(`g) falls through the API while ${VITAL_BACKLOG} vitals drain`);
      const mixed = await fallDuringVitalBacklog(ctx, 'bench-e2e', manyProjects, VITAL_BACKLOG, FALL_RATE);
      record('g) FALL POST /events -> receiver p50, vitals draining', mixed.p50, 'ms', `${mixed.falls} falls at ${FALL_RATE}/s`);
      record('g) FALL POST /events -> receiver p99, vitals draining', mixed.p99, 'ms');
      record('g) FALL POST /events answer p99, vitals draining', mixed.answerP99, 'ms', 'the API alone, from the same requests');
      record('g) VITAL backlog drain', mixed.vitalsPerSecond, 'deliveries/s', `${VITAL_BACKLOG} events, half to the falls' endpoint`);

      console.log('e) project B with project A idle, then while A hangs under a flood');
      const calm = await isolation(ctx, 'bench-a', 'bench-b', 0, STEADY_SECONDS);
      record('e) project B p99, A idle', calm.p99, 'ms', `B at 20/s for ${STEADY_SECONDS} s`);
      const isolated = await isolation(ctx, 'bench-a', 'bench-b', 1_000, STEADY_SECONDS);
      record('e) project B p99 while A hangs', isolated.p99, 'ms', `1000 A events queued, B at 20/s for ${STEADY_SECONDS} s`);
      record('e) B p99 while A hangs / A idle', isolated.p99 / calm.p99, 'x', 'goal: at most 1.5');

      console.log('h) batch ingestion');
      const batches = await batchIngestRates({
        apiUrl: stack.apiUrl,
        token,
        producer,
        projectIds: batchProjects,
        count: N_BATCH,
        batchSize: BATCH_SIZE,
        deadlineMs: 20_000,
      });
      const batchNote = `${N_BATCH} events, ${BATCH_SIZE} per batch, 4 batches at once`;
      record('h) POST /events/batch', batches.apiEventsPerSecond, 'events/s', batchNote);
      record('h) EventProducer.enqueueMany', batches.producerEventsPerSecond, 'events/s', batchNote);
      await queueDrained(producer, Date.now() + 30_000); // the worker skips them (no webhook registered)
    }

    const pipelineShare = drainRates[`1/${MANY_ENDPOINTS} endpoints`]! / floor;
    record(`(c) / (b3), 1 worker, ${MANY_ENDPOINTS} endpoints`, pipelineShare * 100, '%', 'the full pipeline against BullMQ + got alone');
    const ratio = drainRates[`1/${MANY_ENDPOINTS} endpoints`]! / ceiling;
    record(`(c) / min(a,b), 1 worker, ${MANY_ENDPOINTS} endpoints`, ratio * 100, '%');
    record('(c) / min(a,b), 1 worker, 1 endpoint', (drainRates['1/1 endpoint']! / ceiling) * 100, '%');
    record('(b2) / min(a,b)', (senderMax / ceiling) * 100, '%', 'what got alone reaches: no delivery pipeline can pass it');
    record('(b3) / min(a,b)', (floor / ceiling) * 100, '%', 'BullMQ + got with nothing else: the architecture at its barest');
    console.table(rows);
    const result = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: round(totalmem() / 2 ** 30), node: process.version },
      durability: stack.describes,
      config: { workerConcurrency: CONCURRENCY, deliveryTimeoutMs: 5000, manyEndpoints: MANY_ENDPOINTS },
      rows,
      ratioOneWorker: round(ratio, 3),
      pipelineShareOfB3: round(pipelineShare, 3),
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
    rmSync(dataDir, { recursive: true, force: true });
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

/** Until no job waits to be fetched (the delayed ones of (e)'s hanging endpoint aside), or `deadline`. */
async function queueDrained(producer: EventProducer, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const counts = await producer.queue.getJobCounts('waiting', 'prioritized');
    if ((counts.waiting ?? 0) + (counts.prioritized ?? 0) === 0) return;
    await sleep(100);
  }
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

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(`bench failed: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
