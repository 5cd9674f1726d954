import { ObjectId } from 'mongodb';
import type { Redis } from 'ioredis';
import type { DeliveryRecord } from '@novee/shared';

/**
 * The durable side of "every attempt has exactly one record": records are first written to a Redis stream (the
 * outbox, persisted with the queue) and moved to MongoDB by the RecordWriter, so a MongoDB outage or a worker
 * crash cannot lose them. An attempt in flight is marked as started; if its worker dies before the outcome is
 * known, the mark outlives it and is turned into a `failed` record ("interrupted") by sweepInterrupted.
 * Both keys share a {hash tag}, so each script stays in one Redis Cluster slot.
 */
export const outboxKey = (prefix: string) => `${prefix}:{deliveries}:outbox`;
export const startedKey = (prefix: string) => `${prefix}:{deliveries}:started`;

/** A record as it travels through the outbox: its MongoDB _id is fixed here, so a re-sent batch cannot double it. */
export type OutboxRecord = Omit<DeliveryRecord, 'createdAt'> & { _id: string; createdAt: number };
export type AttemptRecord = Omit<DeliveryRecord, 'createdAt'>;
type StartedAttempt = Pick<
  DeliveryRecord,
  'eventId' | 'projectId' | 'webhookType' | 'attempt' | 'run' | 'urlHost' | 'redelivery' | 'recovery'
>;

/** Append a record; clear the attempt's started mark (if any) in the same step. */
const APPEND = `
if ARGV[1] ~= '' then redis.call('HDEL', KEYS[1], ARGV[1]) end
return redis.call('XADD', KEYS[2], '*', 'r', ARGV[2])
`;

/**
 * Turn a started mark into its (prepared) `interrupted` record, once: only the caller that removes the mark
 * appends. Returns the mark, or nil if there was none (or another caller took it). ARGV[2]: only if it was
 * started before this Unix ms ('' = whenever).
 */
const TAKE_INTERRUPTED = `
local mark = redis.call('HGET', KEYS[1], ARGV[1])
if not mark then return nil end
local decoded = cjson.decode(mark)
if ARGV[2] ~= '' and tonumber(decoded.startedAt) > tonumber(ARGV[2]) then return nil end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[2], '*', 'r', decoded.record)
return mark
`;

type JournalRedis = Redis & {
  noveeAppendRecord(started: string, outbox: string, jobId: string, record: string): Promise<string>;
  noveeTakeInterrupted(started: string, outbox: string, jobId: string, startedBefore: string): Promise<string | null>;
};

/** What a started mark holds: the record to write if the attempt never ends, and the slot it holds. */
interface StartedMark {
  startedAt: number;
  record: string;
  endpoint: string;
  leaseId: string;
}

export const INTERRUPTED_ERROR = 'interrupted: the worker stopped before the receiver answered (it may have received it)';

export class AttemptJournal {
  private readonly redis: JournalRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('noveeAppendRecord', { numberOfKeys: 2, lua: APPEND });
    redis.defineCommand('noveeTakeInterrupted', { numberOfKeys: 2, lua: TAKE_INTERRUPTED });
    this.redis = redis as JournalRedis;
  }

  /**
   * Mark a job's attempt as under way before its request is sent (a job runs one attempt at a time), with the
   * endpoint slot it holds, so that whoever finds the mark of a dead worker can free the slot at once.
   */
  async started(jobId: string, attempt: StartedAttempt, slot: { endpoint: string; leaseId: string }): Promise<void> {
    const startedAt = Date.now();
    const interrupted: OutboxRecord = {
      ...attempt,
      _id: new ObjectId().toHexString(),
      status: 'failed',
      error: INTERRUPTED_ERROR,
      interrupted: true,
      createdAt: startedAt,
    };
    const mark: StartedMark = { startedAt, record: JSON.stringify(interrupted), ...slot };
    await this.redis.hset(startedKey(this.prefix), jobId, JSON.stringify(mark));
  }

  /** Durably store one attempt's record (and clear its job's started mark). */
  async append(record: AttemptRecord, jobId = ''): Promise<void> {
    const stored: OutboxRecord = { ...record, _id: new ObjectId().toHexString(), createdAt: Date.now() };
    await this.redis.noveeAppendRecord(startedKey(this.prefix), outboxKey(this.prefix), jobId, JSON.stringify(stored));
  }

  /**
   * A job taken over after a crash: record its interrupted attempt now (if it had one under way) and return
   * the slot that attempt held, for the caller to free.
   */
  async takeOver(jobId: string): Promise<{ endpoint: string; leaseId: string } | null> {
    const mark = await this.redis.noveeTakeInterrupted(startedKey(this.prefix), outboxKey(this.prefix), jobId, '');
    if (!mark) return null;
    const { endpoint, leaseId } = JSON.parse(mark) as StartedMark;
    return { endpoint, leaseId };
  }

  /**
   * Record the attempts started more than `olderThanMs` ago that never got an outcome and whose job was never
   * taken over. Safe to run from every worker at once. Returns how many it recorded.
   */
  async sweepInterrupted(olderThanMs: number): Promise<number> {
    const key = startedKey(this.prefix);
    const cutoff = String(Date.now() - olderThanMs);
    let cursor = '0';
    let recorded = 0;
    do {
      const [next, flat] = await this.redis.hscan(key, cursor, 'COUNT', 500);
      cursor = next;
      for (let i = 0; i < flat.length; i += 2) {
        if ((JSON.parse(flat[i + 1]!) as StartedMark).startedAt > Number(cutoff)) continue;
        if (await this.redis.noveeTakeInterrupted(key, outboxKey(this.prefix), flat[i]!, cutoff)) recorded++;
      }
    } while (cursor !== '0');
    return recorded;
  }

  async outboxLength(): Promise<number> {
    return this.redis.xlen(outboxKey(this.prefix));
  }
}
