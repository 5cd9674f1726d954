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

/** One command's answer in a pipeline: its reply, or the error Redis (or the client) gave for it alone. */
export type PipelinedReply = { ok: true; value: unknown } | { ok: false; error: Error };

/**
 * Run the Lua command `name` once per argument list in one round trip (a pipeline, not a transaction: each
 * call is atomic on its own). Rejects when the pipeline as a whole failed (connection lost); a command that
 * Redis refused (an error reply) gives that command's error only.
 */
export async function runPipelined(client: RedisClient, name: string, argLists: unknown[][]): Promise<PipelinedReply[]> {
  if (argLists.length === 0) return [];
  const pipeline = client.pipeline();
  for (const args of argLists) pipeline.runCommand(name, args);
  const replies = await pipeline.exec();
  if (!replies) throw new Error(`pipeline of ${name} was aborted`);
  return replies.map(([error, value]: [Error | null, unknown]) => (error ? { ok: false, error } : { ok: true, value }));
}
