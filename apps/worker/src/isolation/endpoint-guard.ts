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
  constructor(
    private readonly slots: EndpointSlots,
    private readonly breaker: CircuitBreaker,
    /** How long a job waits before trying a busy endpoint again (jittered). */
    private readonly busyRetryMs: number,
  ) {}

  /**
   * `deferrals`: how often this job was already turned away. Each time it waits twice as long (up to 32x),
   * so the jobs queued for a stuck endpoint poll it rarely instead of churning through the workers.
   */
  async admit(url: string, deferrals = 0, now = Date.now()): Promise<Admission> {
    const endpoint = endpointKey(url);
    const openUntil = await this.breaker.openUntil(endpoint, now);
    if (openUntil) return { admitted: false, retryAt: openUntil + jitter(1_000), reason: 'circuit open' };
    const lease = await this.slots.acquire(endpoint);
    if (!lease) {
      const wait = this.busyRetryMs * 2 ** Math.min(deferrals, 5);
      return { admitted: false, retryAt: now + wait / 2 + jitter(wait), reason: 'endpoint busy' };
    }
    return { admitted: true, release: () => this.slots.release(endpoint, lease) };
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
