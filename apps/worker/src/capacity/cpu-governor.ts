import { performance } from 'node:perf_hooks';

export interface CpuGovernorOptions {
  /** WORKER_CONCURRENCY: the most jobs the worker runs at once. */
  max: number;
  /** Never fewer than this at once (slow receivers hold jobs while costing no CPU). */
  min: number;
  /** Above this event-loop utilization (0-1) over an interval, the worker takes fewer jobs at once. */
  high: number;
  /** Below it, more again (up to max). */
  low: number;
  intervalMs: number;
}

export const CPU_GOVERNOR_DEFAULTS = { high: 0.95, low: 0.8, intervalMs: 100 } as const;

/** The next number of jobs at once, from the event loop's utilization over the last interval. */
export function nextConcurrency(current: number, utilization: number, options: CpuGovernorOptions): number {
  if (utilization > options.high) return Math.max(options.min, Math.floor(current * 0.75));
  if (utilization < options.low) return Math.min(options.max, current + Math.max(1, Math.ceil(current * 0.25)));
  return current;
}

/**
 * Keeps a BullMQ worker from taking more jobs at once than its CPU can turn. Jobs inside a process share one
 * event loop first come, first served, so once that loop is saturated every extra job only makes each delivery
 * slower (wall time = jobs at once / throughput) and, worse, a fall fetched first still waits its turn behind
 * every vital already in the process. Jobs left in Redis instead are fetched by priority. While the event loop
 * is busier than `high`, the worker takes a quarter fewer jobs at once, and more again below `low`; jobs
 * waiting on a slow receiver cost no CPU, so they do not lower it.
 * `saturated()`: the event loop was busier than `high` over the last interval; response times measured then
 * include the worker's own queueing, so they say little about the receiver (see process-delivery-job.ts).
 */
export function governConcurrency(
  worker: { concurrency: number },
  options: CpuGovernorOptions,
  onChange: (concurrency: number) => void = () => {},
): { stop(): void; saturated(): boolean } {
  let last = performance.eventLoopUtilization();
  let utilization = 0;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    utilization = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    const next = nextConcurrency(worker.concurrency, utilization, options);
    if (next === worker.concurrency) return;
    worker.concurrency = next;
    onChange(next);
  }, options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), saturated: () => utilization > options.high };
}
