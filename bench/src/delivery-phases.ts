import type { Agent } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { EventProducer } from '@novee/shared';
import { fallEvent, post, receiverStats, vitalEvent, waitForCount, type ReceiverFilter } from './bench-client';
import { atFixedRate, percentile, runPool } from './stats';

/**
 * The phases that go through the product (producer or API, queue, worker, receiver). Every one is bounded in
 * count and in time. The receiver measures latency from the FALL_DETECTION payload's happenedAt (the send time).
 */
export interface PhaseContext {
  producer: EventProducer;
  receiverUrl: string;
  apiUrl: string;
  /** A pipeline token (events:write:any). */
  token: string;
  agent: Agent;
  limitMs: number;
}

const FALL = 'FALL_DETECTION';

/** Deliveries/s: preload `count` events (spread over `projects`) on the paused queue, resume, time the drain. */
export async function drain(ctx: PhaseContext, projects: readonly string[], count: number): Promise<number> {
  await post(`${ctx.receiverUrl}/reset`, '', ctx.agent);
  await ctx.producer.queue.pause();
  await runPool(count, 50, Date.now() + ctx.limitMs, async (i) => {
    await ctx.producer.enqueue(fallEvent(projects[i % projects.length]!));
  });
  const started = Date.now();
  await ctx.producer.queue.resume();
  const seen = await waitForCount(ctx.receiverUrl, filterFor(projects), count, started + ctx.limitMs, ctx.agent);
  return (seen * 1000) / (Date.now() - started);
}

/** Send (producer) -> receiver latency at a steady rate to one endpoint. */
export async function producerLatency(ctx: PhaseContext, projectId: string, rate: number, seconds: number) {
  await post(`${ctx.receiverUrl}/reset`, '', ctx.agent);
  await atFixedRate(rate, seconds, async () => {
    await ctx.producer.enqueue(fallEvent(projectId));
  });
  return settledStats(ctx, { path: `/${projectId}`, type: FALL }, rate * seconds);
}

/** POST /events -> receiver latency at a steady rate to one endpoint (the whole product, as a pipeline sees it). */
export async function apiToReceiverLatency(ctx: PhaseContext, projectId: string, rate: number, seconds: number) {
  await post(`${ctx.receiverUrl}/reset`, '', ctx.agent);
  await atFixedRate(rate, seconds, () => postEvent(ctx, fallEvent(projectId)));
  return settledStats(ctx, { path: `/${projectId}`, type: FALL }, rate * seconds);
}

/**
 * POST /events answer time (p50/p99, ms) at a steady rate, the events spread over `projects`, and the bench
 * process's own event-loop delay p99 meanwhile (ms beyond its 5 ms sampling): a late client inflates the
 * answer times it measures.
 */
export async function apiAnswerTime(ctx: PhaseContext, projects: readonly string[], rate: number, seconds: number) {
  const latencies: number[] = [];
  const clientLoop = monitorEventLoopDelay({ resolution: 5 });
  clientLoop.enable();
  await atFixedRate(rate, seconds, async (i) => {
    const started = performance.now();
    await postEvent(ctx, fallEvent(projects[i % projects.length]!));
    latencies.push(performance.now() - started);
  });
  clientLoop.disable();
  const clientDelayP99 = Math.max(0, clientLoop.percentile(99) / 1e6 - 5);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), clientDelayP99 };
}

/**
 * A fall is never stuck behind vitals: `backlog` VITAL_THRESHOLD events are queued (half to `sameProject`, half
 * spread over `otherProjects`) and, while they drain, FALL_DETECTION events are posted through the API to
 * `sameProject` at `fallRate`. Returns the falls' API -> receiver latency (and the API's answer time alone) and the
 * vitals' drain rate.
 */
export async function fallDuringVitalBacklog(
  ctx: PhaseContext,
  sameProject: string,
  otherProjects: readonly string[],
  backlog: number,
  fallRate: number,
) {
  await post(`${ctx.receiverUrl}/reset`, '', ctx.agent);
  await ctx.producer.queue.pause();
  await runPool(backlog, 50, Date.now() + ctx.limitMs, async (i) => {
    const projectId = i % 2 === 0 ? sameProject : otherProjects[i % otherProjects.length]!;
    await ctx.producer.enqueue(vitalEvent(projectId));
  });
  const started = Date.now();
  await ctx.producer.queue.resume();
  const vitals = { prefix: '/', type: 'VITAL_THRESHOLD' };
  let falls = 0;
  const sending: Promise<void>[] = [];
  const answers: number[] = [];
  const postFall = async () => {
    const sent = performance.now();
    await postEvent(ctx, fallEvent(sameProject));
    answers.push(performance.now() - sent);
  };
  // A fall every 1/fallRate s until the vital backlog is delivered (bounded by the phase limit).
  while ((await receiverStats(ctx.receiverUrl, vitals, ctx.agent)).count < backlog && Date.now() < started + ctx.limitMs) {
    const due = started + (falls * 1000) / fallRate;
    if (Date.now() >= due) {
      falls++;
      sending.push(postFall());
    } else await new Promise((resolve) => setTimeout(resolve, Math.min(10, due - Date.now())));
  }
  const drainedMs = Date.now() - started;
  await Promise.all(sending);
  const vitalCount = (await receiverStats(ctx.receiverUrl, vitals, ctx.agent)).count;
  const fall = await settledStats(ctx, { path: `/${sameProject}`, type: FALL }, falls);
  return { ...fall, falls, vitalsPerSecond: (vitalCount * 1000) / drainedMs, answerP99: percentile(answers, 99) };
}

/**
 * Project B's latency (producer -> receiver) at 20/s while A's receiver hangs under a queued flood (`flood` A
 * events; 0: A idle, the baseline (e) is compared with).
 */
export async function isolation(ctx: PhaseContext, hangingProject: string, otherProject: string, flood: number, seconds: number) {
  await post(`${ctx.receiverUrl}/reset`, '', ctx.agent);
  await runPool(flood, 50, Date.now() + ctx.limitMs, async () => {
    await ctx.producer.enqueue(fallEvent(hangingProject));
  });
  await atFixedRate(20, seconds, async () => {
    await ctx.producer.enqueue(fallEvent(otherProject));
  });
  return settledStats(ctx, { path: `/${otherProject}`, type: FALL }, 20 * seconds);
}

async function postEvent(ctx: PhaseContext, event: object): Promise<void> {
  const status = await post(`${ctx.apiUrl}/events`, JSON.stringify(event), ctx.agent, ctx.token);
  if (status !== 202) throw new Error(`POST /events answered ${status}`);
}

/** The receiver's stats once it has `count` matching deliveries (or 20 s passed). */
async function settledStats(ctx: PhaseContext, filter: ReceiverFilter, count: number) {
  await waitForCount(ctx.receiverUrl, filter, count, Date.now() + 20_000, ctx.agent);
  return receiverStats(ctx.receiverUrl, filter, ctx.agent);
}

function filterFor(projects: readonly string[]): ReceiverFilter {
  if (projects.length === 1) return { path: `/${projects[0]}`, type: FALL };
  const prefix = commonPrefix(projects.map((p) => `/${p}`));
  return { prefix, type: FALL };
}

function commonPrefix(values: string[]): string {
  let prefix = values[0] ?? '';
  for (const value of values) while (!value.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}
