import type { RedisClient } from 'bullmq';
import { runPipelined, scriptedClient } from '../queue/scripted-client';
import { IdempotencyKeyReusedError, InvalidIdempotencyKeyError } from './idempotency-errors';

/** How long an Idempotency-Key keeps answering with its event (IDEMPOTENCY_TTL). */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Claim a key for an event, or return the record that already holds it.
 * KEYS[1] = the key's record; ARGV = projectId, fingerprint, eventId, ttl (ms).
 * Returns {1} when this call created the record, else {0, projectId, fingerprint, eventId, state}.
 */
const CLAIM = `
local existing = redis.call('HMGET', KEYS[1], 'projectId', 'fingerprint', 'eventId', 'state')
if existing[1] then return {0, existing[1], existing[2], existing[3], existing[4]} end
redis.call('HSET', KEYS[1], 'projectId', ARGV[1], 'fingerprint', ARGV[2], 'eventId', ARGV[3], 'state', 'pending')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1}
`;

/** Mark the key's event as enqueued, only if the record still names that event (never recreate an expired one). */
const MARK_ENQUEUED = `
if redis.call('HGET', KEYS[1], 'eventId') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'enqueued')
return 1
`;

/**
 * - `new`: this request owns the key; enqueue the event under `eventId`, then markEnqueued.
 * - `enqueued`: the key's event is known to be in the queue (or already delivered): answer with its id.
 * - `pending`: the key's event id is fixed but its job is not known to be added (a request in flight, or one
 *   that crashed or timed out before its add was confirmed). Add the job again under that same id: BullMQ
 *   keeps one job per id, so this either finds the first request's job or enqueues the event it never did.
 */
export type IdempotencyClaim = { state: 'new' | 'enqueued' | 'pending'; eventId: string };

/** What one claim asks for: bind `key` to this project and event, with `eventId` as its id if the key is new. */
export interface ClaimRequest {
  key: string;
  projectId: string;
  fingerprint: string;
  eventId: string;
}

type ClaimReply = [number, string?, string?, string?, string?];

/** The CLAIM script's reply as a claim; throws IdempotencyKeyReusedError when the key belongs to something else. */
function claimOutcome(reply: ClaimReply, { key, projectId, fingerprint, eventId }: ClaimRequest): IdempotencyClaim {
  if (reply[0] === 1) return { state: 'new', eventId };
  const [, ownerProject, ownerFingerprint, ownerEventId, state] = reply;
  if (ownerProject !== projectId) throw new IdempotencyKeyReusedError(key, 'project');
  if (ownerFingerprint !== fingerprint) throw new IdempotencyKeyReusedError(key, 'event');
  return { state: state === 'enqueued' ? 'enqueued' : 'pending', eventId: ownerEventId! };
}

const PRINTABLE_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * Idempotency-Keys in Redis, independent of BullMQ's job retention (completed jobs are removed in thousands
 * per minute under load, the key must hold for IDEMPOTENCY_TTL). Modelled on Svix's idempotency: the key
 * plus what it was used for (project, event fingerprint) -> the event's id and whether its job is known to
 * be enqueued. The key is global, not per project, so that a key reused for another project is refused (422)
 * rather than creating or hiding an event. Records: `{prefix}:idempotency:{key}`, a small hash, with a TTL.
 */
export class IdempotencyStore {
  private readonly client: () => Promise<RedisClient>;

  constructor(
    redis: () => Promise<RedisClient>,
    private readonly prefix: string,
    readonly ttlMs: number = DEFAULT_IDEMPOTENCY_TTL_MS,
  ) {
    this.client = scriptedClient(redis, {
      noveeIdempotencyClaim: { numberOfKeys: 1, lua: CLAIM },
      noveeIdempotencyMarkEnqueued: { numberOfKeys: 1, lua: MARK_ENQUEUED },
    });
  }

  static assertValidKey(key: string): void {
    if (!PRINTABLE_KEY.test(key)) throw new InvalidIdempotencyKeyError(key);
  }

  /**
   * Bind `key` to this project and event (with `eventId` as its id if the key is new). Throws
   * IdempotencyKeyReusedError when the key was used for another project or a different event.
   */
  async claim(key: string, projectId: string, fingerprint: string, eventId: string): Promise<IdempotencyClaim> {
    const client = await this.client();
    const reply = (await client.runCommand('noveeIdempotencyClaim', [
      this.recordKey(key),
      projectId,
      fingerprint,
      eventId,
      this.ttlMs,
    ])) as ClaimReply;
    return claimOutcome(reply, { key, projectId, fingerprint, eventId });
  }

  /**
   * claim for many keys in one round trip (a batch): each claim's outcome, or its IdempotencyKeyReusedError
   * (or the error Redis gave for that claim alone), in order. Rejects when Redis could not be asked at all.
   */
  async claimMany(claims: ClaimRequest[]): Promise<Array<IdempotencyClaim | Error>> {
    const argLists = claims.map(({ key, projectId, fingerprint, eventId }) => [
      this.recordKey(key),
      projectId,
      fingerprint,
      eventId,
      this.ttlMs,
    ]);
    const replies = await runPipelined(await this.client(), 'noveeIdempotencyClaim', argLists);
    return replies.map((reply, i) => {
      if (!reply.ok) return reply.error;
      try {
        return claimOutcome(reply.value as ClaimReply, claims[i]!);
      } catch (error) {
        return error as Error;
      }
    });
  }

  /** The key's event is in the queue: later requests with the key answer at once, even after the job is gone. */
  async markEnqueued(key: string, eventId: string): Promise<void> {
    const client = await this.client();
    await client.runCommand('noveeIdempotencyMarkEnqueued', [this.recordKey(key), eventId]);
  }

  /** markEnqueued for many keys in one round trip (a batch). */
  async markManyEnqueued(marks: Array<{ key: string; eventId: string }>): Promise<void> {
    const argLists = marks.map(({ key, eventId }) => [this.recordKey(key), eventId]);
    const failed = (await runPipelined(await this.client(), 'noveeIdempotencyMarkEnqueued', argLists)).find((reply) => !reply.ok);
    if (failed && !failed.ok) throw failed.error;
  }

  recordKey(key: string): string {
    return `${this.prefix}:idempotency:${key}`;
  }
}
