import { isEnqueued, type EventProducer } from '@novee/shared';
import { fallEvent } from './bench-client';
import { runPool } from './stats';

/** Batches in flight at once, through the API and through the producer. */
const CONCURRENT_BATCHES = 4;

export interface BatchIngestArgs {
  apiUrl: string;
  /** A token with events:write:any (or events:write for every project of projectIds). */
  token: string;
  producer: EventProducer;
  /** The events go round-robin to these projects (the API limits each to RATE_LIMIT_EVENTS_PER_SECOND). */
  projectIds: string[];
  /** Events per path (API, producer), at most. */
  count: number;
  batchSize: number;
  /** Each path stops sending new batches after this long (ms). */
  deadlineMs: number;
}

/**
 * The batch ingestion row: events per second accepted through POST /events/batch and through
 * EventProducer.enqueueMany, `batchSize` events per call, CONCURRENT_BATCHES calls at once. Only accepted
 * events count (an event refused by a limit does not). Bounded by `count` events and `deadlineMs` per path.
 */
export async function batchIngestRates(args: BatchIngestArgs): Promise<{ apiEventsPerSecond: number; producerEventsPerSecond: number }> {
  const batches = Math.ceil(args.count / args.batchSize);
  const batch = (b: number) =>
    Array.from({ length: Math.min(args.batchSize, args.count - b * args.batchSize) }, (_, i) =>
      fallEvent(args.projectIds[(b * args.batchSize + i) % args.projectIds.length]!),
    );

  const apiEventsPerSecond = await acceptedPerSecond(batches, args.deadlineMs, async (b) => {
    const res = await fetch(`${args.apiUrl}/events/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${args.token}` },
      body: JSON.stringify({ events: batch(b) }),
    });
    if (res.status !== 200) throw new Error(`POST /events/batch answered ${res.status}: ${await res.text()}`);
    const { results } = (await res.json()) as { results: Array<{ eventId?: string }> };
    return results.filter((result) => result.eventId).length;
  });
  const producerEventsPerSecond = await acceptedPerSecond(batches, args.deadlineMs, async (b) => {
    const results = await args.producer.enqueueMany(batch(b));
    return results.filter(isEnqueued).length;
  });
  return { apiEventsPerSecond, producerEventsPerSecond };
}

/** Run `send` for each batch (CONCURRENT_BATCHES at once, until the deadline): accepted events per second. */
async function acceptedPerSecond(batches: number, deadlineMs: number, send: (b: number) => Promise<number>): Promise<number> {
  let accepted = 0;
  const started = Date.now();
  await runPool(batches, CONCURRENT_BATCHES, started + deadlineMs, async (b) => {
    accepted += await send(b);
  });
  const seconds = (Date.now() - started) / 1000;
  return seconds > 0 ? Math.round(accepted / seconds) : 0;
}
