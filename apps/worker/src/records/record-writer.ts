import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { MongoBulkWriteError, MongoServerError, ObjectId, type Db, type WriteError } from 'mongodb';
import { deliveriesCollection, type DeliveryRecord, type Logger } from '@novee/shared';
import { outboxKey, type AttemptJournal, type OutboxRecord } from './attempt-journal';

export interface RecordWriterOptions {
  /** Records per MongoDB write. */
  batchSize: number;
  /** How long one read waits for new records (it returns as soon as there are some). */
  blockMs: number;
  /**
   * After a read that found less than a full batch, wait this long before the next one, so that under load a
   * MongoDB write carries many records instead of one or two (each write costs the worker about as much as a
   * delivery). The records are safe in the Redis outbox meanwhile; they reach MongoDB at most this much later.
   */
  gatherMs: number;
  /** Records read by a worker that has not stored them for this long are taken over (it died). */
  claimIdleMs: number;
  /** An attempt started this long ago without an outcome was interrupted by its worker's death. */
  interruptedAfterMs: number;
  /** Beyond this many records waiting (MongoDB down for long), `onBacklog(true)`: the worker stops taking jobs. */
  maxBacklog: number;
  onBacklog: (full: boolean) => void;
}

const GROUP = 'record-writers';
const DUPLICATE_KEY = 11000;

/**
 * Moves delivery records from the Redis outbox to MongoDB `deliveries`, exactly once: each record carries its
 * own _id, so a batch written again after a crash or an error only hits duplicates, which are ignored. A batch
 * is acknowledged (and deleted from Redis) only after MongoDB has it; while MongoDB is down the same batch is
 * retried with backoff and the rest waits in Redis. Every worker runs one, in a Redis consumer group, so records
 * a dead worker had read are taken over by the others.
 */
export class RecordWriter {
  private readonly consumer = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();
  private lastHousekeeping = 0;
  private backlogFull = false;
  private outage = false;

  constructor(
    /** A connection of its own: reads block on it. */
    private readonly redis: Redis,
    private readonly journal: AttemptJournal,
    private readonly db: Db,
    private readonly prefix: string,
    private readonly logger: Logger,
    private readonly options: RecordWriterOptions,
  ) {}

  async start(): Promise<void> {
    await this.redis.xgroup('CREATE', outboxKey(this.prefix), GROUP, '0', 'MKSTREAM').catch((error: Error) => {
      if (!error.message.includes('BUSYGROUP')) throw error;
    });
    this.running = this.loop();
  }

  /** Stop reading. What is not yet in MongoDB stays in Redis for the other workers (or the next start). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.redis.disconnect(); // ends a blocked read at once
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.housekeeping();
        const entries = await this.readNew();
        if (entries.length > 0) await this.store(entries);
        if (entries.length > 0 && entries.length < this.options.batchSize) await sleep(this.options.gatherMs);
      } catch (error) {
        if (this.stopped) return;
        this.logger.warn('delivery record writer: Redis error, retrying', { error: (error as Error).message });
        await sleep(1_000);
      }
    }
  }

  /** Every few seconds: take over records a dead worker had read, record interrupted attempts, watch the backlog. */
  private async housekeeping(): Promise<void> {
    if (Date.now() - this.lastHousekeeping < 5_000) return;
    this.lastHousekeeping = Date.now();
    const [, claimed] = (await this.redis.xautoclaim(
      outboxKey(this.prefix),
      GROUP,
      this.consumer,
      this.options.claimIdleMs,
      '0-0',
      'COUNT',
      this.options.batchSize,
    )) as [string, [string, string[]][]];
    if (claimed.length > 0) await this.store(claimed);
    const interrupted = await this.journal.sweepInterrupted(this.options.interruptedAfterMs);
    if (interrupted > 0) this.logger.warn('recorded attempts interrupted by a worker that stopped', { count: interrupted });
    await this.checkBacklog();
  }

  private async checkBacklog(): Promise<void> {
    const full = (await this.journal.outboxLength()) > this.options.maxBacklog;
    if (full !== this.backlogFull) {
      this.backlogFull = full;
      this.logger.log(
        full ? 'error' : 'info',
        full
          ? 'delivery record backlog full: pausing deliveries until MongoDB takes records again'
          : 'delivery record backlog drained: resuming deliveries',
      );
      this.options.onBacklog(full);
    }
  }

  private async readNew(): Promise<[string, string[]][]> {
    const reply = (await this.redis.xreadgroup(
      'GROUP',
      GROUP,
      this.consumer,
      'COUNT',
      this.options.batchSize,
      'BLOCK',
      this.options.blockMs,
      'STREAMS',
      outboxKey(this.prefix),
      '>',
    )) as [string, [string, string[]][]][] | null;
    return reply?.[0]?.[1] ?? [];
  }

  /** Write the entries to MongoDB until it takes them (or the writer stops), then remove them from the outbox. */
  private async store(entries: [string, string[]][]): Promise<void> {
    const docs = entries.map(([, fields]) => toDocument(fields[1]!));
    for (let backoff = 250; ; backoff = Math.min(backoff * 2, 5_000)) {
      try {
        // Journaled before MongoDB answers: only then is the batch removed from the Redis outbox.
        await deliveriesCollection(this.db).insertMany(docs, { ordered: false, writeConcern: { w: 'majority', j: true } });
        break;
      } catch (error) {
        if (onlyDuplicates(error)) break; // written before (a retried batch): exactly one copy stands
        if (!this.outage)
          this.logger.warn('MongoDB is not taking delivery records; they wait in Redis', {
            count: docs.length,
            error: (error as Error).message,
          });
        this.outage = true;
        if (this.stopped) return;
        await this.checkBacklog().catch(() => undefined);
        await sleep(backoff);
      }
    }
    if (this.outage) this.logger.info('MongoDB takes delivery records again');
    this.outage = false;
    const ids = entries.map(([id]) => id);
    await this.redis
      .multi()
      .xack(outboxKey(this.prefix), GROUP, ...ids)
      .xdel(outboxKey(this.prefix), ...ids)
      .exec();
  }
}

function toDocument(json: string): DeliveryRecord & { _id: ObjectId } {
  const record = JSON.parse(json) as OutboxRecord;
  return { ...record, _id: new ObjectId(record._id), createdAt: new Date(record.createdAt) };
}

function onlyDuplicates(error: unknown): boolean {
  if (error instanceof MongoBulkWriteError) {
    const errors: readonly WriteError[] = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
    return errors.length > 0 && errors.every((e) => e.code === DUPLICATE_KEY);
  }
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
