import type { CircuitBreaker } from './circuit-breaker';
import { endpointKey } from './endpoint-key';
import type { EndpointSlots } from './endpoint-slots';

export type Admission =
  | { admitted: true; release(): Promise<void> }
  | { admitted: false; retryAt: number; reason: 'circuit open' | 'endpoint busy' };

/**
 * Decides whether a delivery to an endpoint may start now: not while its circuit is open, and not beyond its
 * in-flight cap. A refused job is delayed by the caller, so one receiver's trouble never fills the workers.
 */
export class EndpointGuard {
  /** Jobs in this process waiting for a slot, per endpoint; woken when this process frees one. */
  private readonly waiters = new Map<string, Array<() => void>>();

  constructor(
    private readonly slots: EndpointSlots,
    private readonly breaker: CircuitBreaker,
    /** How long a job waits before trying a busy endpoint again (jittered). */
    private readonly busyRetryMs: number,
    /** At most this many jobs per endpoint wait here for a slot (the rest are delayed); keep it at the slot cap. */
    private readonly maxWaiters: number,
    /** How long one of them waits before it is delayed instead. */
    private readonly maxWaitMs = 250,
  ) {}

  /**
   * `deferrals`: how often this job was already turned away. Each time it waits twice as long (up to 32x),
   * so the jobs queued for a stuck endpoint poll it rarely instead of churning through the workers.
   */
  async admit(url: string, deferrals = 0, now = Date.now()): Promise<Admission> {
    const endpoint = endpointKey(url);
    const openUntil = await this.breaker.openUntil(endpoint, now);
    if (openUntil) return { admitted: false, retryAt: openUntil + jitter(1_000), reason: 'circuit open' };
    const lease = (await this.slots.acquire(endpoint)) ?? (await this.waitForSlot(endpoint));
    if (!lease) {
      const wait = this.busyRetryMs * 2 ** Math.min(deferrals, 5);
      return { admitted: false, retryAt: now + wait / 2 + jitter(wait), reason: 'endpoint busy' };
    }
    return {
      admitted: true,
      release: async () => {
        await this.slots.release(endpoint, lease);
        this.waiters.get(endpoint)?.shift()?.();
      },
    };
  }

  /**
   * A healthy endpoint at its cap frees a slot within milliseconds, so wait here briefly instead of paying a
   * trip through the delayed set: woken by a local release, re-checking every 25 ms for other processes'.
   * Bounded in count and time, so a hanging endpoint holds at most 2 x cap of this worker's slots.
   */
  private async waitForSlot(endpoint: string): Promise<string | null> {
    const queue = this.waiters.get(endpoint) ?? [];
    if (queue.length >= this.maxWaiters) return null;
    this.waiters.set(endpoint, queue);
    const deadline = Date.now() + this.maxWaitMs;
    try {
      while (Date.now() < deadline) {
        await new Promise<void>((wake) => {
          const entry = () => {
            clearTimeout(timer);
            wake();
          };
          const timer = setTimeout(() => {
            queue.splice(queue.indexOf(entry), 1);
            wake();
          }, 25);
          queue.push(entry); // one entry per waiting job: a release wakes (and removes) the oldest
        });
        const lease = await this.slots.acquire(endpoint);
        if (lease) return lease;
      }
      return null;
    } finally {
      if (queue.length === 0) this.waiters.delete(endpoint);
    }
  }

  /** Feed the outcome to the breaker; returns the time until which the circuit opened, if this tripped it. */
  async recordOutcome(url: string, delivered: boolean): Promise<number | null> {
    const endpoint = endpointKey(url);
    if (delivered) {
      await this.breaker.recordSuccess(endpoint);
      return null;
    }
    return this.breaker.recordFailure(endpoint);
  }
}

const jitter = (ms: number) => Math.floor(Math.random() * ms);
