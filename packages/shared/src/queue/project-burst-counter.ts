import type { RedisClient } from 'bullmq';
import type { WebhookType } from '../events/event-types';
import { runPipelined, scriptedClient } from './scripted-client';

/** Events of one type per second a project may enqueue in the normal lane before the rest go to the bulk lane. */
export const DEFAULT_PROJECT_BURST_PER_SECOND = 50;

/** Count one event in this second's counter (which lapses soon after the second ends); returns the count. */
const COUNT_EVENT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], 2000) end
return count
`;

/** Count ARGV[1] events at once (a batch); returns the count after them. */
const COUNT_EVENTS = `
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if count == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], 2000) end
return count
`;

/**
 * Counts each project's events per second in Redis (shared by every API instance and pipeline), so that the
 * events beyond a project's per-second share can be enqueued in the bulk lane (see bulkPriority): one
 * project's burst then waits behind other projects' events instead of in front of them. Each type has its own
 * share, so a project's burst of vitals never sends its falls to the bulk lane.
 */
export class ProjectBurstCounter {
  private readonly client: () => Promise<RedisClient>;

  constructor(
    redis: () => Promise<RedisClient>,
    private readonly prefix: string,
    private readonly perSecond: number,
  ) {
    this.client = scriptedClient(redis, {
      noveeCountEvent: { numberOfKeys: 1, lua: COUNT_EVENT },
      noveeCountEvents: { numberOfKeys: 1, lua: COUNT_EVENTS },
    });
  }

  /** Count one event of the project now; true when it is beyond the project's share of its type for this second. */
  async overShare(projectId: string, webhookType: WebhookType, now = Date.now()): Promise<boolean> {
    const key = this.key(projectId, webhookType, Math.floor(now / 1000));
    const count = Number(await (await this.client()).runCommand('noveeCountEvent', [key]));
    return count > this.perSecond;
  }

  /**
   * Count a batch's events now (a project and type may appear many times), one script call per project and type
   * in one round trip: for each event, in order, whether it is beyond its project's share of its type for this
   * second (or the error Redis gave for that count). Rejects when Redis could not be asked at all.
   */
  async overShareMany(events: Array<{ projectId: string; webhookType: WebhookType }>, now = Date.now()): Promise<Array<boolean | Error>> {
    const second = Math.floor(now / 1000);
    const keys = events.map(({ projectId, webhookType }) => this.key(projectId, webhookType, second));
    const perKey = new Map<string, number>();
    for (const key of keys) perKey.set(key, (perKey.get(key) ?? 0) + 1);
    const distinct = [...perKey.keys()];
    const argLists = distinct.map((key) => [key, perKey.get(key)]);
    const replies = await runPipelined(await this.client(), 'noveeCountEvents', argLists);
    // Per project and type: the count before this batch (each of its events then takes the next number), or the error.
    const counted = new Map<string, number | Error>();
    distinct.forEach((key, i) => {
      const reply = replies[i]!;
      counted.set(key, reply.ok ? Number(reply.value) - perKey.get(key)! : reply.error);
    });
    return keys.map((key) => {
      const before = counted.get(key)!;
      if (before instanceof Error) return before;
      counted.set(key, before + 1);
      return before + 1 > this.perSecond;
    });
  }

  private key(projectId: string, webhookType: WebhookType, second: number): string {
    return `${this.prefix}:project:${projectId}:events:${webhookType}:${second}`;
  }
}
