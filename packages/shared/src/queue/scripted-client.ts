import type { RedisClient } from 'bullmq';

export type LuaScripts = Record<string, { numberOfKeys: number; lua: string }>;

/**
 * BullMQ's Redis client with these Lua commands defined on it, once (call them with `runCommand`). If Redis
 * cannot be reached, the next call tries again instead of keeping the failure.
 */
export function scriptedClient(redis: () => Promise<RedisClient>, scripts: LuaScripts): () => Promise<RedisClient> {
  let defined: Promise<RedisClient> | undefined;
  return () =>
    (defined ??= redis().then(
      (client) => {
        for (const [name, script] of Object.entries(scripts)) client.defineCommand(name, script);
        return client;
      },
      (error: unknown) => {
        defined = undefined;
        throw error;
      },
    ));
}
