import type { CircuitBreaker } from './circuit-breaker';
import { endpointKey } from './endpoint-key';
import type { EndpointSlots } from './endpoint-slots';

export type Admission =
  | {
      admitted: true;
      release(): Promise<void>;
      /** Feed the outcome to the endpoint's breaker; returns the time the circuit opened until, if this tripped it. */
      recordOutcome(delivered: boolean): Promise<number | null>;
    }
  | { admitted: false; retryAt: number; reason: 'circuit open' | 'endpoint busy' };

type Lease = { id: string; acquiredAt: number };
type Waiter = (handedOver: Lease | null) => void;

/**
 * Decides whether a delivery to an endpoint may start now: not while its circuit is open, and not beyond its
 * in-flight cap. A refused job is delayed by the caller, so one receiver's trouble never fills the workers.
 */
export class EndpointGuard {
  /** Jobs in this process waiting for a slot, per endpoint; a finishing job hands its slot to the oldest. */
  private readonly waiters = new Map<string, Waiter[]>();

  constructor(
    private readonly slots: EndpointSlots,
    private readonly breaker: CircuitBreaker,
    /** How long a job waits before trying a busy endpoint again (jittered). */
    private readonly busyRetryMs: number,
    /** At most this many jobs per endpoint wait here for a slot (the rest are delayed); keep it at the slot cap. */
    private readonly maxWaiters: number,
    /** How long one of them waits before it is delayed instead. */
    private readonly maxWaitMs = 250,
    /**
     * A slot is handed from a finishing job to a waiting one (no Redis round trip) only while its lease is
     * younger than this: leases last the delivery timeout + 10 s, so a handed-over one cannot lapse mid-delivery.
     */
    private readonly handoverMaxAgeMs = 5_000,
  ) {}

  /**
   * `deferrals`: how often this job was already turned away. Each time it waits twice as long (up to 32x),
   * so the jobs queued for a stuck endpoint poll it rarely instead of churning through the workers.
   */
  async admit(url: string, deferrals = 0, now = Date.now()): Promise<Admission> {
    const endpoint = endpointKey(url);
    const openUntil = await this.breaker.openUntil(endpoint, now);
    if (openUntil) return { admitted: false, retryAt: openUntil + jitter(1_000), reason: 'circuit open' };
    const lease = (await this.acquire(endpoint)) ?? (await this.waitForSlot(endpoint));
    if (!lease) {
      const wait = this.busyRetryMs * 2 ** Math.min(deferrals, 5);
      return { admitted: false, retryAt: now + wait / 2 + jitter(wait), reason: 'endpoint busy' };
    }
    return {
      admitted: true,
      release: async () => {
        const next = this.waiters.get(endpoint)?.shift();
        if (next && Date.now() - lease.acquiredAt < this.handoverMaxAgeMs) return next(lease);
        await this.slots.release(endpoint, lease.id);
        next?.(null); // the slot is free in Redis now: try for it
      },
      recordOutcome: async (delivered) => {
        if (!delivered) return this.breaker.recordFailure(endpoint);
        await this.breaker.recordSuccess(endpoint);
        return null;
      },
    };
  }

  private async acquire(endpoint: string): Promise<Lease | null> {
    const id = await this.slots.acquire(endpoint);
    return id ? { id, acquiredAt: Date.now() } : null;
  }

  /**
   * A healthy endpoint at its cap frees a slot within milliseconds, so wait here briefly instead of paying a
   * trip through the delayed set: woken by a local release, re-checking every 25 ms for other processes'.
   * Bounded in count and time, so a hanging endpoint holds at most 2 x cap of this worker's slots.
   */
  private async waitForSlot(endpoint: string): Promise<Lease | null> {
    const queue = this.waiters.get(endpoint) ?? [];
    if (queue.length >= this.maxWaiters) return null;
    this.waiters.set(endpoint, queue);
    const deadline = Date.now() + this.maxWaitMs;
    try {
      while (Date.now() < deadline) {
        const handedOver = await new Promise<Lease | null>((resolve) => {
          const entry: Waiter = (lease) => {
            clearTimeout(timer);
            resolve(lease);
          };
          const timer = setTimeout(() => {
            queue.splice(queue.indexOf(entry), 1);
            resolve(null);
          }, 25);
          queue.push(entry); // one entry per waiting job; a release wakes (and removes) the oldest
        });
        const lease = handedOver ?? (await this.acquire(endpoint));
        if (lease) return lease;
      }
      return null;
    } finally {
      if (queue.length === 0) this.waiters.delete(endpoint);
    }
  }
}

const jitter = (ms: number) => Math.floor(Math.random() * ms);
