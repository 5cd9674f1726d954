import { randomUUID } from 'node:crypto';
import { request, type Agent } from 'node:http';

/** What the benchmark sends and how it talks to the API and to its receiver (plain node:http, keep-alive). */

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A FALL_DETECTION payload whose happenedAt is `sentAt`: the receiver measures latency from it. */
export function fallData(sentAt: number) {
  return {
    userUUID: randomUUID(),
    reasons: ['bench'],
    happenedAt: new Date(sentAt).toISOString(),
    email: 'bench@example.com',
    firstName: 'Bench',
    lastName: 'Mark',
  };
}

export function fallEvent(projectId: string) {
  const data = fallData(Date.now());
  return { projectId, userUUID: data.userUUID, webhookType: 'FALL_DETECTION' as const, data };
}

export function vitalEvent(projectId: string) {
  const userUUID = randomUUID();
  return {
    projectId,
    userUUID,
    webhookType: 'VITAL_THRESHOLD' as const,
    data: {
      userUUID,
      email: 'bench@example.com',
      firstName: 'Bench',
      lastName: 'Mark',
      triggeredVitals: [
        { vitalType: 'heartrate' as const, badValue: 140, thresholdValue: 120, vital_id: 'bench', reason: 'high' as const },
      ],
    },
  };
}

/** POST `body`; resolves with the status code once the answer is read. */
export function post(url: string, body: string, agent: Agent, token?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export function getText(url: string, agent?: Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve(text));
    })
      .on('error', reject)
      .end();
  });
}

/** One receiver path, or every path starting with a prefix; optionally one event type. */
export type ReceiverFilter = ({ path: string } | { prefix: string }) & { type?: string };
export type ReceiverStats = { count: number; p50: number; p99: number; max: number };

export async function receiverStats(receiverUrl: string, filter: ReceiverFilter, agent: Agent): Promise<ReceiverStats> {
  return JSON.parse(await getText(`${receiverUrl}/stats?${new URLSearchParams(filter).toString()}`, agent)) as ReceiverStats;
}

/** Polls the receiver until it has seen `count` deliveries matching `filter` or `deadline` passes; returns the count. */
export async function waitForCount(
  receiverUrl: string,
  filter: ReceiverFilter,
  count: number,
  deadline: number,
  agent: Agent,
): Promise<number> {
  for (;;) {
    const seen = (await receiverStats(receiverUrl, filter, agent)).count;
    if (seen >= count || Date.now() > deadline) return seen;
    await sleep(20);
  }
}
