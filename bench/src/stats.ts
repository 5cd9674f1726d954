/** Percentile of a list of numbers (nearest rank). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Run `task` `count` times with at most `concurrency` at once; stop early at `deadline` (Unix ms). */
export async function runPool(count: number, concurrency: number, deadline: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count && Date.now() < deadline) {
        await task(next++);
        done++;
      }
    }),
  );
  return done;
}

/** Call `task` at `ratePerSecond` for `seconds`, without waiting for one call before the next. */
export async function atFixedRate(ratePerSecond: number, seconds: number, task: (i: number) => Promise<void>): Promise<void> {
  const total = Math.round(ratePerSecond * seconds);
  const started = Date.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / ratePerSecond;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(task(i));
  }
  await Promise.all(pending);
}
