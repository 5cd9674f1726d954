import { endpointKey } from './endpoint-key';
import type { AdmitResult, CircuitChange, EndpointState, LimitFeedback } from './endpoint-state';

export type Admission =
  | {
      admitted: true;
      /**
       * Free the slot (or hand it to a job waiting here) and feed the outcome to the endpoint's breaker and its
       * adaptive limit (`feedback`); returns what it did to the circuit (opened until, or closed). `pauseMs`: the
       * receiver asked us to wait (429/503 with Retry-After): the endpoint is paused that long, and the failure
       * does not count as one.
       */
      finish(delivered: boolean, pauseMs?: number, feedback?: LimitFeedback): Promise<CircuitChange>;
      /** The slot this delivery holds, for AttemptJournal's started mark. */
      slot: EndpointSlot;
    }
  | { admitted: false; retryAt: number; reason: 'circuit open' | 'endpoint busy' | 'receiver asked to wait' };

/** One slot of one endpoint's in-flight limit. */
export type EndpointSlot = { endpoint: string; leaseId: string };
type Refusal = Extract<Admission, { admitted: false }>;
/** How a job asks EndpointState for a slot. */
type AdmitHow = { ignoreCircuit: boolean; urgent: boolean };
type Lease = { id: string; acquiredAt: number; circuitDirty: boolean; generation: number };
type Waiter = ((handedOver: Lease | null) => void) & { urgent?: boolean };
/**
 * The jobs of this process waiting for one endpoint's slot, the wake-up calls of those listening now, and the
 * room's poll: every 25 ms it wakes the longest-waiting job to look at Redis (slots freed by other processes, or
 * added by the limit's growth), so a room costs one look per 25 ms however many jobs wait in it.
 */
type WaitingRoom = { count: number; listeners: Waiter[]; poll: NodeJS.Timeout };

export interface EndpointGuardOptions {
  /** How long a job waits before trying a busy endpoint again (jittered, doubling with each deferral). */
  busyRetryMs: number;
  /**
   * At most this many jobs of one endpoint are held by this process, in flight or waiting for a slot; the rest
   * are delayed. Below the worker's concurrency, so one endpoint (even one whose limit grew high and which then
   * hangs) never takes all of a worker's slots.
   */
  maxHeld: number;
  /** How long a job waits for a slot before it is delayed instead. */
  maxWaitMs: number;
  /** A delivery ends by this time at the latest, so a stuck endpoint frees a slot no later than that. */
  deliveryTimeoutMs: number;
  /**
   * A slot is handed from a finishing job to a waiting one (no Redis round trip) only while its lease is
   * younger than this. Keep it well under stuckAfterMs: Redis sees a handed-over lease's first start, so a
   * long chain of handovers would look like a stuck delivery (and it keeps leases far from lapsing).
   * (EndpointState's stuckAfterMs: 250 ms at least.)
   */
  handoverMaxAgeMs: number;
  /**
   * An urgent event (FALL_DETECTION, TEST) may take this many slots beyond the endpoint's limit (and beyond
   * maxHeld), and waits ahead of the others in a waiting room: a fall is never queued behind a backlog of vitals
   * to the same endpoint. (A hanging endpoint still gets no more than its initial limit.)
   */
  urgentHeadroom: number;
}

const DEFAULTS: EndpointGuardOptions = {
  busyRetryMs: 1_000,
  maxHeld: 80,
  maxWaitMs: 250,
  deliveryTimeoutMs: 5_000,
  handoverMaxAgeMs: 100,
  urgentHeadroom: 2,
};

/**
 * Decides whether a delivery to an endpoint may start now: not while its circuit is open, not beyond its adaptive
 * in-flight limit, and not beyond maxHeld of this process's jobs. A refused job is delayed by the caller, so one
 * receiver's trouble never fills the workers.
 */
export class EndpointGuard {
  /**
   * Per endpoint, while any job waits for it here; a finishing job hands its slot to the oldest listener.
   * `count` also includes waiters between two looks at Redis, so the bound holds for them too.
   */
  private readonly rooms = new Map<string, WaitingRoom>();
  /** Per endpoint, this process's jobs in flight to it or waiting for it (the maxHeld bound). */
  private readonly held = new Map<string, number>();
  /** When this process last heard from Redis that an endpoint hangs. */
  private readonly stuckAt = new Map<string, number>();
  private readonly options: EndpointGuardOptions;

  constructor(
    private readonly state: EndpointState,
    options: Partial<EndpointGuardOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /**
   * `deferrals`: how often this job was already turned away. Each time it waits twice as long (up to 32x),
   * so the jobs queued for a stuck endpoint poll it rarely instead of churning through the workers.
   * `ignoreCircuit`: for an event whose retry window is over, so that its attempt is made even while the
   * circuit is open (the in-flight limit still holds). `urgent`: see urgentHeadroom.
   */
  async admit(url: string, deferrals = 0, { ignoreCircuit = false, urgent = false } = {}): Promise<Admission> {
    const endpoint = endpointKey(url);
    const held = this.held.get(endpoint) ?? 0;
    if (held >= this.options.maxHeld + (urgent ? this.options.urgentHeadroom : 0)) {
      // This worker holds enough of the endpoint's jobs already. They turn over fast unless the endpoint hangs,
      // so a fall comes back soon (its backlog is not made to wait seconds), but not to an endpoint seen hanging
      // (its falls must not churn through the worker).
      return urgent && !this.seenStuck(endpoint) ? this.soon(deferrals) : this.busy(deferrals);
    }
    this.held.set(endpoint, held + 1);
    let lease: Lease | Refusal;
    try {
      lease = await this.take(endpoint, deferrals, { ignoreCircuit, urgent });
    } catch (error) {
      this.unhold(endpoint);
      throw error;
    }
    if ('admitted' in lease) {
      this.unhold(endpoint);
      return lease;
    }
    return {
      admitted: true,
      finish: (delivered, pauseMs, feedback) => {
        this.unhold(endpoint);
        return this.finish(endpoint, lease, delivered, pauseMs, feedback);
      },
      slot: { endpoint, leaseId: lease.id },
    };
  }

  private unhold(endpoint: string): void {
    const held = (this.held.get(endpoint) ?? 1) - 1;
    if (held > 0) this.held.set(endpoint, held);
    else this.held.delete(endpoint);
  }

  /** Free the slot of a delivery whose worker died, at once instead of when its lease lapses. */
  release(slot: EndpointSlot): Promise<void> {
    return this.state.release(slot.endpoint, slot.leaseId);
  }

  /** One look at Redis for a slot; an urgent job may take the headroom beyond the limit. */
  private ask(endpoint: string, { ignoreCircuit, urgent }: AdmitHow): Promise<AdmitResult> {
    return this.state.admit(endpoint, { ignoreCircuit, headroom: urgent ? this.options.urgentHeadroom : 0 });
  }

  private async take(endpoint: string, deferrals: number, how: AdmitHow): Promise<Lease | Refusal> {
    const result = await this.ask(endpoint, how);
    if (result.status !== 'busy') return leaseOrRefusal(result);
    if (result.stuck) {
      this.noteStuck(endpoint);
      return this.busy(deferrals, result.oldestAgeMs);
    }
    return this.waitForSlot(endpoint, deferrals, how);
  }

  private async finish(
    endpoint: string,
    lease: Lease,
    delivered: boolean,
    pauseMs?: number,
    feedback?: LimitFeedback,
  ): Promise<CircuitChange> {
    const listeners = this.rooms.get(endpoint)?.listeners;
    if (delivered && listeners?.length && Date.now() - lease.acquiredAt < this.options.handoverMaxAgeMs) {
      // A failure never hands over: the next job must see the circuit this failure may have opened.
      listeners.shift()!({ ...lease, circuitDirty: false });
      // The lease stays with the waiting job, but the limit still learns from this answer (it grows while used).
      if (!lease.circuitDirty && !feedback) return null;
      return this.state.finish(endpoint, null, true, lease.generation, undefined, feedback);
    }
    const change = await this.state.finish(endpoint, lease.id, delivered, lease.generation, delivered ? undefined : pauseMs, feedback);
    this.rooms.get(endpoint)?.listeners.shift()?.(null); // the slot is free in Redis now: try for it
    return change;
  }

  /**
   * Delay a job for a busy endpoint. A stuck one (its oldest delivery running for `stuckForMs`) frees no slot
   * before that delivery times out, so its jobs are not brought back to be turned away again before then.
   */
  /** Delay an urgent job briefly: 50 ms, doubling per deferral up to 1.6 s (jittered). */
  private soon(deferrals: number): Refusal {
    const backoff = 50 * 2 ** Math.min(deferrals, 5);
    return { admitted: false, retryAt: Date.now() + backoff / 2 + jitter(backoff), reason: 'endpoint busy' };
  }

  /** This process saw the endpoint hanging (Redis said so) within the last second. */
  private seenStuck(endpoint: string): boolean {
    const at = this.stuckAt.get(endpoint);
    if (at !== undefined && Date.now() - at > 1_000) this.stuckAt.delete(endpoint);
    return at !== undefined && Date.now() - at <= 1_000;
  }

  private noteStuck(endpoint: string): void {
    if (this.stuckAt.size > 10_000) this.stuckAt.clear(); // bounded: it is only a hint
    this.stuckAt.set(endpoint, Date.now());
  }

  private busy(deferrals: number, stuckForMs?: number): Refusal {
    const backoff = this.options.busyRetryMs * 2 ** Math.min(deferrals, 5);
    const untilTimeout = stuckForMs === undefined ? 0 : Math.max(0, this.options.deliveryTimeoutMs - stuckForMs);
    return { admitted: false, retryAt: Date.now() + untilTimeout + backoff / 2 + jitter(backoff), reason: 'endpoint busy' };
  }

  /**
   * A healthy endpoint at its limit frees a slot within milliseconds, so wait here briefly instead of paying a
   * trip through the delayed set: woken by a local finish, or by the room's poll (one job every 25 ms) for other
   * processes' finishes. A job that finds a slot in Redis wakes the next one, which may find another.
   * Bounded in count (maxHeld) and time, so an endpoint that turns slow holds few of this worker's slots, briefly.
   */
  private async waitForSlot(endpoint: string, deferrals: number, how: AdmitHow): Promise<Lease | Refusal> {
    let room = this.rooms.get(endpoint);
    if (!room) {
      const listeners: Waiter[] = [];
      const poll = setInterval(() => listeners.shift()?.(null), 25);
      this.rooms.set(endpoint, (room = { count: 0, listeners, poll }));
    }
    room.count++;
    try {
      const deadline = Date.now() + this.options.maxWaitMs;
      for (;;) {
        const handedOver = await nextFinish(room, deadline, how.urgent);
        if (handedOver) return handedOver;
        if (Date.now() >= deadline) return this.busy(deferrals);
        const retry = await this.ask(endpoint, how);
        if (retry.status !== 'busy') {
          room.listeners.shift()?.(null); // there may be more room (or the same refusal): the next one looks too
          return leaseOrRefusal(retry);
        }
        if (retry.stuck) {
          this.noteStuck(endpoint);
          return this.busy(deferrals, retry.oldestAgeMs);
        }
      }
    } finally {
      if (--room.count === 0) {
        clearInterval(room.poll);
        this.rooms.delete(endpoint);
      }
    }
  }
}

/**
 * The slot of the room's next local finish (null: woken to look at Redis, or the deadline passed). An urgent
 * waiter queues ahead of every other one but the urgent ones before it.
 */
function nextFinish(room: WaitingRoom, deadline: number, urgent: boolean): Promise<Lease | null> {
  return new Promise((resolve) => {
    const listener: Waiter = Object.assign(
      (lease: Lease | null) => {
        clearTimeout(timer);
        resolve(lease);
      },
      { urgent },
    );
    const timer = setTimeout(
      () => {
        const at = room.listeners.indexOf(listener);
        if (at >= 0) room.listeners.splice(at, 1);
        resolve(null);
      },
      Math.max(0, deadline - Date.now()),
    );
    // A finish or the room's poll wakes (and removes) the first.
    if (!urgent) room.listeners.push(listener);
    else {
      const firstNotUrgent = room.listeners.findIndex((other) => !other.urgent);
      room.listeners.splice(firstNotUrgent < 0 ? room.listeners.length : firstNotUrgent, 0, listener);
    }
  });
}

/**
 * A lease; the refusal of a paused endpoint, retried just after the pause the receiver asked for; or that of an open circuit: retried just after its cooldown, when one job will be let through
 * as the probe; while a probe is in flight, soon again (a probe usually answers in milliseconds).
 */
function leaseOrRefusal(result: Exclude<AdmitResult, { status: 'busy' }>): Lease | Refusal {
  if (result.status === 'paused') return { admitted: false, retryAt: result.pausedUntil + jitter(1_000), reason: 'receiver asked to wait' };
  if (result.status === 'open') return { admitted: false, retryAt: result.openUntil + jitter(1_000), reason: 'circuit open' };
  if (result.status === 'probing') return { admitted: false, retryAt: Date.now() + 500 + jitter(1_000), reason: 'circuit open' };
  return { id: result.leaseId, acquiredAt: Date.now(), circuitDirty: result.circuitDirty, generation: result.generation };
}
const jitter = (ms: number) => Math.floor(Math.random() * ms);
