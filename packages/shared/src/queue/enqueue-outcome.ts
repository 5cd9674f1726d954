import { setTimeout as sleep } from 'node:timers/promises';
import { ReplyError } from 'ioredis';

/** The event is known NOT to be in the queue (Redis unreachable, or it refused the command): retry freely (503). */
export class QueueUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`Event queue is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'QueueUnavailableError';
  }
}

/**
 * The job was sent to Redis but neither its confirmation nor a check came back within the bound (Redis stalled
 * mid-command): the event may be in the queue. Retrying with the same Idempotency-Key is exact; retrying
 * without one may deliver it twice (504, never 503).
 */
export class EnqueueOutcomeUnknownError extends Error {
  constructor(readonly eventId: string) {
    super(`Event queue did not confirm event ${eventId} in time`);
    this.name = 'EnqueueOutcomeUnknownError';
  }
}

/**
 * ioredis refuses a command without sending it when the connection is not writable and the offline queue is
 * off (the producer connection's setting), and a Redis error reply means the command was refused, not run.
 * Anything else (the connection closed while the command was in flight) leaves the outcome open.
 */
export function neverReachedRedis(error: unknown): boolean {
  if (error instanceof ReplyError) return true;
  return error instanceof Error && error.message.startsWith("Stream isn't writeable");
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown } | { ok: 'pending' };

/** Wait for `work` until `deadline` (Unix ms), without throwing. */
export async function settleBy<T>(work: Promise<T>, deadline: number): Promise<Settled<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ ok: 'pending' }>((resolve) => {
    timer = setTimeout(() => resolve({ ok: 'pending' }), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([
      work.then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const CHECK_INTERVAL_MS = 100;

/**
 * Add a job and know whether it is in the queue before answering: resolves when it is, throws
 * QueueUnavailableError only when it is known not to be, EnqueueOutcomeUnknownError when that cannot be
 * told by `deadline`. When the add failed in flight (connection lost), `jobExists` is asked once Redis
 * answers again: a check over the new connection runs after anything the old one had delivered.
 */
export async function addConfirmed(
  add: () => Promise<unknown>,
  jobExists: () => Promise<boolean>,
  eventId: string,
  deadline: number,
  onLateSuccess: () => void = () => {},
): Promise<void> {
  const adding = add();
  const settled = await settleBy(adding, deadline);
  if (settled.ok === true) return;
  if (settled.ok === 'pending') {
    adding.then(onLateSuccess, () => {});
    throw new EnqueueOutcomeUnknownError(eventId);
  }
  if (neverReachedRedis(settled.error)) throw new QueueUnavailableError(settled.error);
  while (Date.now() < deadline) {
    const check = await settleBy(jobExists(), deadline);
    if (check.ok === true) {
      if (check.value) return;
      throw new QueueUnavailableError(settled.error);
    }
    if (check.ok === 'pending') break;
    await sleep(CHECK_INTERVAL_MS);
  }
  throw new EnqueueOutcomeUnknownError(eventId);
}

/** One job's outcome in addAllConfirmed: in the queue, known not to be, or unknown. */
export type AddOutcome = 'added' | QueueUnavailableError | EnqueueOutcomeUnknownError;

/**
 * addConfirmed for many jobs sent in one pipeline (BullMQ's addBulk): each job's outcome, in order. A
 * pipeline is not a transaction, so an error reply for one job says nothing of the others: after any failure
 * but "never sent" (the connection was not writable: nothing of the pipeline left), `jobsExist` is asked, as
 * in addConfirmed, and each job is known added or known not added; unknown when that cannot be told by
 * `deadline`. `onLateSuccess` runs if the whole add is confirmed after the deadline.
 */
export async function addAllConfirmed(
  addAll: () => Promise<unknown>,
  jobsExist: () => Promise<boolean[]>,
  eventIds: string[],
  deadline: number,
  onLateSuccess: () => void = () => {},
): Promise<AddOutcome[]> {
  const unknown = () => eventIds.map((eventId) => new EnqueueOutcomeUnknownError(eventId));
  const adding = addAll();
  const settled = await settleBy(adding, deadline);
  if (settled.ok === true) return eventIds.map(() => 'added');
  if (settled.ok === 'pending') {
    adding.then(onLateSuccess, () => {});
    return unknown();
  }
  const cause = settled.error;
  if (neverReachedRedis(cause) && !(cause instanceof ReplyError)) return eventIds.map(() => new QueueUnavailableError(cause));
  while (Date.now() < deadline) {
    const check = await settleBy(jobsExist(), deadline);
    if (check.ok === true) return check.value.map((exists) => (exists ? 'added' : new QueueUnavailableError(cause)));
    if (check.ok === 'pending') break;
    await sleep(CHECK_INTERVAL_MS);
  }
  return unknown();
}
