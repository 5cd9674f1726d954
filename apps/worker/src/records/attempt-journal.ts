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
type StartedAttempt = Pick<DeliveryRecord, 'eventId' | 'projectId' | 'webhookType' | 'attempt' | 'urlHost' | 'redelivery'>;

/** Append a record; clear the attempt's started mark (if any) in the same step. */
const APPEND = `
if ARGV[1] ~= '' then redis.call('HDEL', KEYS[1], ARGV[1]) end
return redis.call('XADD', KEYS[2], '*', 'r', ARGV[2])
`;

/** Turn a started mark into a record, once: only the caller that removes the mark appends. Returns 1 if it did. */
const RECORD_INTERRUPTED = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', 'r', ARGV[2])
return 1
`;

type JournalRedis = Redis & {
  noveeAppendRecord(started: string, outbox: string, attemptId: string, record: string): Promise<string>;
  noveeRecordInterrupted(started: string, outbox: string, attemptId: string, record: string): Promise<number>;
};

export const INTERRUPTED_ERROR = 'interrupted: the worker stopped before the receiver answered (it may have received it)';

export class AttemptJournal {
  private readonly redis: JournalRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('noveeAppendRecord', { numberOfKeys: 2, lua: APPEND });
    redis.defineCommand('noveeRecordInterrupted', { numberOfKeys: 2, lua: RECORD_INTERRUPTED });
    this.redis = redis as JournalRedis;
  }

  /** Mark an attempt as under way before its request is sent. `attemptId` is unique per run of a job. */
  async started(attemptId: string, attempt: StartedAttempt): Promise<void> {
    await this.redis.hset(startedKey(this.prefix), attemptId, JSON.stringify({ ...attempt, startedAt: Date.now() }));
  }

  /** Durably store one attempt's record (and clear its started mark). */
  async append(record: AttemptRecord, attemptId = ''): Promise<void> {
    const stored: OutboxRecord = { ...record, _id: new ObjectId().toHexString(), createdAt: Date.now() };
    await this.redis.noveeAppendRecord(startedKey(this.prefix), outboxKey(this.prefix), attemptId, JSON.stringify(stored));
  }

  /**
   * Record the attempts started more than `olderThanMs` ago that never got an outcome: their worker died.
   * Safe to run from every worker at once. Returns how many it recorded.
   */
  async sweepInterrupted(olderThanMs: number): Promise<number> {
    const key = startedKey(this.prefix);
    const cutoff = Date.now() - olderThanMs;
    let cursor = '0';
    let recorded = 0;
    do {
      const [next, flat] = await this.redis.hscan(key, cursor, 'COUNT', 500);
      cursor = next;
      for (let i = 0; i < flat.length; i += 2) {
        const attemptId = flat[i]!;
        const { startedAt, ...attempt } = JSON.parse(flat[i + 1]!) as StartedAttempt & { startedAt: number };
        if (startedAt > cutoff) continue;
        const stored: OutboxRecord = {
          ...attempt,
          _id: new ObjectId().toHexString(),
          status: 'failed',
          error: INTERRUPTED_ERROR,
          createdAt: startedAt,
        };
        recorded += await this.redis.noveeRecordInterrupted(key, outboxKey(this.prefix), attemptId, JSON.stringify(stored));
      }
    } while (cursor !== '0');
    return recorded;
  }

  async outboxLength(): Promise<number> {
    return this.redis.xlen(outboxKey(this.prefix));
  }
}
