import type { RedisClient } from 'bullmq';
import { scriptedClient } from './scripted-client';

/** Events per second a project may enqueue in the normal lane before the rest go to the bulk lane. */
export const DEFAULT_PROJECT_BURST_PER_SECOND = 50;

/** Count one event in this second's counter (which lapses soon after the second ends); returns the count. */
const COUNT_EVENT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], 2000) end
return count
`;

/**
 * Counts each project's events per second in Redis (shared by every API instance and pipeline), so that the
 * events beyond a project's per-second share can be enqueued in the bulk lane (see bulkPriority): one
 * project's burst then waits behind other projects' events instead of in front of them.
 */
export class ProjectBurstCounter {
  private readonly client: () => Promise<RedisClient>;

  constructor(
    redis: () => Promise<RedisClient>,
    private readonly prefix: string,
    private readonly perSecond: number,
  ) {
    this.client = scriptedClient(redis, { noveeCountEvent: { numberOfKeys: 1, lua: COUNT_EVENT } });
  }

  /** Count one event of the project now; true when it is beyond the project's share for this second. */
  async overShare(projectId: string, now = Date.now()): Promise<boolean> {
    const key = `${this.prefix}:project:${projectId}:events:${Math.floor(now / 1000)}`;
    const count = Number(await (await this.client()).runCommand('noveeCountEvent', [key]));
    return count > this.perSecond;
  }
}
