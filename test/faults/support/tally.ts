import { setTimeout as sleep } from 'node:timers/promises';
import { deliveriesCollection } from '@novee/shared';
import type { CountingReceiver } from './counting-receiver';
import type { Ack } from './event-client';
import type { FaultStack } from './fault-stack';

/** What happened to the accepted events: every figure is a count. */
export interface Counts {
  /** Events answered 202. */
  accepted: number;
  /** Accepted events the receiver answered 2xx for. */
  delivered: number;
  /** Accepted, not delivered yet, but still in the queue (e.g. waiting for a retry on the schedule). */
  pending: number;
  /** Accepted, not delivered, and no longer in the queue. */
  lost: number;
  /** Deliveries beyond the first per event sent (per Idempotency-Key): at-least-once repeats or duplicate events. */
  duplicates: number;
  /** Attempts without a record in `deliveries`: a gap in an event's attempt numbers, or a delivery without its record. */
  missingRecords: number;
  /** Records beyond one per (eventId, attempt). */
  doubledRecords: number;
  /** When the records were first found complete (no missing, no doubled), or null. */
  recordsCompleteAt: number | null;
}

/** A scenario's line in the report. */
export interface Tally extends Counts {
  scenario: string;
  /** Seconds from the fault to the scenario's recovery point (see each scenario); null if never. */
  recoverySeconds: number | null;
  /** The most recoverySeconds may be, where the product promises one. */
  boundSeconds?: number;
  note?: string;
}

/** Poll `probe` every 100 ms until it is true or `timeoutMs` has passed; says which. Bounded. */
export async function waitUntil(probe: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
}

/** Wait (at most timeoutMs) until every acknowledged event has reached the receiver. */
export function waitForDeliveries(receiver: CountingReceiver, acks: Ack[], timeoutMs: number): Promise<boolean> {
  return waitUntil(() => receiver.deliveredCount(acks.map((ack) => ack.eventId)) === acks.length, timeoutMs);
}

/** Seconds from `since` until the last of `eventIds` first arrived (0 if all were there before); null if one never did. */
export function secondsUntilAll(receiver: CountingReceiver, eventIds: string[], since: number): number | null {
  const arrivals = eventIds.map((id) => receiver.firstDelivery(id));
  if (arrivals.some((at) => at === undefined)) return null;
  return Math.max(0, ...arrivals.map((at) => at! - since)) / 1000;
}

/**
 * Count what happened to `acks`. Records are read until they are complete or `recordsWithinMs` has passed
 * (workers write them in batches, and after an outage they may still be catching up).
 */
export async function count(
  stack: FaultStack,
  receiver: CountingReceiver,
  acks: Ack[],
  { recordsWithinMs = 10_000 } = {},
): Promise<Counts> {
  const deliveriesByUser = new Map<string, number>();
  for (const { userUUID } of receiver.deliveries) deliveriesByUser.set(userUUID, (deliveriesByUser.get(userUUID) ?? 0) + 1);
  const undelivered = acks.filter((ack) => !deliveriesByUser.get(ack.userUUID));
  const pending = await countPending(
    stack,
    undelivered.map((ack) => ack.eventId),
  );

  let records = { missing: 0, doubled: 0 };
  const complete = await waitUntil(async () => {
    records = await checkRecords(stack, receiver, acks);
    return records.missing === 0 && records.doubled === 0;
  }, recordsWithinMs);

  return {
    accepted: acks.length,
    delivered: acks.length - undelivered.length,
    pending,
    lost: undelivered.length - pending,
    duplicates: acks.reduce((sum, ack) => sum + Math.max(0, (deliveriesByUser.get(ack.userUUID) ?? 0) - 1), 0),
    missingRecords: records.missing,
    doubledRecords: records.doubled,
    recordsCompleteAt: complete ? Date.now() : null,
  };
}

/**
 * Every attempt has exactly one record: per event, attempts 1..n each recorded once, and an event the receiver
 * took has a `delivered` record. A crash can make one attempt run twice: the run cut short (its record marked
 * `interrupted`) and the re-run after the stall (the next `run`); each run has exactly one record.
 */
async function checkRecords(stack: FaultStack, receiver: CountingReceiver, acks: Ack[]): Promise<{ missing: number; doubled: number }> {
  const attempts = new Map<string, { numbers: string[]; delivered: boolean }>();
  const cursor = deliveriesCollection(stack.db).find(
    { eventId: { $in: acks.map((ack) => ack.eventId) } },
    { projection: { _id: 0, eventId: 1, attempt: 1, run: 1, status: 1 } },
  );
  for await (const record of cursor) {
    const entry = attempts.get(record.eventId) ?? { numbers: [], delivered: false };
    entry.numbers.push(`${record.attempt}.${record.run ?? 0}`);
    entry.delivered ||= record.status === 'delivered';
    attempts.set(record.eventId, entry);
  }
  let missing = 0;
  let doubled = 0;
  for (const { eventId } of acks) {
    const { numbers, delivered } = attempts.get(eventId) ?? { numbers: [], delivered: false };
    doubled += numbers.length - new Set(numbers).size;
    const recorded = new Set(numbers.map((n) => parseInt(n, 10)));
    const highest = Math.max(0, ...recorded);
    missing += highest - [...recorded].filter((n) => n >= 1 && n <= highest).length;
    if (receiver.firstDelivery(eventId) !== undefined && !delivered) missing += 1;
  }
  return { missing, doubled };
}

/** Jobs not finished yet: waiting, prioritized, delayed (a retry or a deferral) or active. */
async function countPending(stack: FaultStack, eventIds: string[]): Promise<number> {
  let pending = 0;
  for (const eventId of eventIds) {
    const state = await stack.queue.getJobState(eventId);
    if (['waiting', 'prioritized', 'delayed', 'active', 'waiting-children'].includes(state)) pending++;
  }
  return pending;
}

/** One line per scenario, on stdout (not through console.log, so that it reads as a table). */
export function report(t: Tally): void {
  const recovery = t.recoverySeconds === null ? 'never' : `${t.recoverySeconds.toFixed(1)} s`;
  const bound = t.boundSeconds === undefined ? '' : ` (bound ${t.boundSeconds} s)`;
  process.stdout.write(
    `\n[fault] ${t.scenario.padEnd(34)} accepted ${t.accepted} | delivered ${t.delivered} | pending ${t.pending} | lost ${t.lost} | ` +
      `duplicates ${t.duplicates} | missing records ${t.missingRecords} | doubled records ${t.doubledRecords} | ` +
      `recovery ${recovery}${bound}${t.note ? ` | ${t.note}` : ''}\n`,
  );
}

/**
 * The scenario's verdict, all at once so a failure shows every broken promise: nothing lost, every attempt
 * recorded exactly once, everything delivered (unless `pendingAllowed`: a retry scheduled later is not a loss),
 * no duplicates if `noDuplicates`, and recovery within its bound.
 */
export function expectKept(t: Tally, { pendingAllowed = false, noDuplicates = false } = {}): void {
  expect({
    lost: t.lost,
    pending: pendingAllowed ? 0 : t.pending,
    duplicates: noDuplicates ? t.duplicates : 0,
    missingRecords: t.missingRecords,
    doubledRecords: t.doubledRecords,
    recoveredWithinBound: t.boundSeconds === undefined || (t.recoverySeconds !== null && t.recoverySeconds <= t.boundSeconds),
  }).toEqual({ lost: 0, pending: 0, duplicates: 0, missingRecords: 0, doubledRecords: 0, recoveredWithinBound: true });
}
