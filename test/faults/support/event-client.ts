import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/** An event the API answered 202 for. */
export interface Ack {
  key: string;
  projectId: string;
  /** The event's data.userUUID, unique per event sent: what the receiver counts a key's deliveries by. */
  userUUID: string;
  eventId: string;
  at: number;
  /** Requests it took (1 = answered 202 the first time). */
  tries: number;
}

export interface FloodOptions {
  count: number;
  projectIds: string[];
  /** Start this many events per second (spread over time, so that a fault lands mid-flood). */
  perSecond: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /**
   * Send an event again, with the same Idempotency-Key and body, when the API did not answer 202 (503, a
   * reset connection, a timeout), every 250 ms until this many ms after the flood started. 0: never.
   */
  resendForMs?: number;
}

export interface Flood {
  acks: Ack[];
  /** Requests that did not get a 202 (503, network error), including the ones later resent successfully. */
  unanswered: number;
  /** Events never answered 202, even after resending. */
  unacknowledged: number;
  done: Promise<void>;
  /** Stop starting new events (those in flight still finish). */
  stop(): void;
}

/**
 * A pipeline posting FALL_DETECTION events to POST /events, each with its own Idempotency-Key and userUUID.
 * Bounded: `count` events, each resent at most until `resendForMs`.
 */
export function flood(apiUrl: string, token: string, options: FloodOptions): Flood {
  const { count, projectIds, perSecond, concurrency = 16, resendForMs = 0 } = options;
  const result: Flood = { acks: [], unanswered: 0, unacknowledged: 0, done: Promise.resolve(), stop: () => (stopped = true) };
  let stopped = false;
  let next = 0;
  const started = Date.now();

  const sendOne = async (i: number) => {
    const key = randomUUID();
    const userUUID = randomUUID();
    const projectId = projectIds[i % projectIds.length]!;
    const body = JSON.stringify(fallDetection(projectId, userUUID));
    for (let tries = 1; ; tries++) {
      const answer = await post(apiUrl, token, key, body);
      if (answer.status === 202) {
        result.acks.push({ key, projectId, userUUID, eventId: answer.eventId!, at: Date.now(), tries });
        return;
      }
      // Resent as a pipeline would: 503 (not enqueued), no answer (0), and 429 (a burst of resends after an outage
      // can go past the project's rate limit) all mean "try again with the same key".
      if (answer.status !== 503 && answer.status !== 429 && answer.status !== 0) {
        throw new Error(`POST /events answered ${answer.status}: ${answer.text}`);
      }
      result.unanswered++;
      if (Date.now() - started > resendForMs) break;
      await sleep(250);
    }
    result.unacknowledged++;
  };

  result.done = Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count && !stopped) {
        const i = next++;
        const due = started + (i * 1000) / perSecond;
        if (due > Date.now()) await sleep(due - Date.now());
        await sendOne(i);
      }
    }),
  ).then(() => undefined);
  return result;
}

/**
 * Post an acknowledged event again, same key and body, as a pipeline does whose 202 was lost: the API must
 * answer with the same event (and enqueue nothing new). Returns the eventId it answered.
 */
export async function resend(apiUrl: string, token: string, ack: Ack): Promise<string> {
  const answer = await post(apiUrl, token, ack.key, JSON.stringify(fallDetection(ack.projectId, ack.userUUID)));
  if (answer.status !== 202) throw new Error(`resending ${ack.key}: ${answer.status} ${answer.text ?? ''}`);
  return answer.eventId!;
}

/** status 0: no HTTP answer (connection refused or reset, timeout). */
async function post(
  apiUrl: string,
  token: string,
  key: string,
  body: string,
): Promise<{ status: number; eventId?: string; text?: string }> {
  try {
    const res = await fetch(`${apiUrl}/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    return { status: res.status, text, eventId: res.status === 202 ? (JSON.parse(text) as { eventId: string }).eventId : undefined };
  } catch {
    return { status: 0 };
  }
}

function fallDetection(projectId: string, userUUID: string) {
  return {
    projectId,
    userUUID,
    webhookType: 'FALL_DETECTION',
    data: {
      userUUID,
      reasons: ['impact detected'],
      happenedAt: '2026-11-23T10:15:30.000Z',
      email: 'ada@example.com',
      firstName: 'Ada',
      lastName: 'Lovelace',
    },
  };
}
