/**
 * Wait for `work`, but no longer than `ms`. Shutdown uses it so that a dependency that is down
 * (e.g. BullMQ's QueueEvents waiting for an unreachable Redis) cannot hang the process forever.
 */
export async function settleWithin<T>(work: Promise<T>, ms: number): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(() => resolve('timed out'), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
