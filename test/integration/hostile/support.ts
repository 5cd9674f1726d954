import { STATUS_CODES } from 'node:http';
import { expect } from '@jest/globals';
import type { ApiBody, Harness } from '../support/harness';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The JSON body, if the answer had one. */
  json: ApiBody | undefined;
}

/** fetch with full control of headers and body; the answer's JSON (if any) parsed. */
export async function call(
  h: Harness,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  const response = await fetch(h.api.url + path, { method, headers: options.headers, body: options.body });
  const text = await response.text();
  let json: ApiBody | undefined;
  try {
    json = text ? (JSON.parse(text) as ApiBody) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** The documented error body, with the status and (optionally) a message matching `message`. */
export function expectErrorBody(answer: Pick<Answer, 'status' | 'json'>, status: number, message?: string | RegExp) {
  expect(answer.status).toBe(status);
  expect(answer.json).toEqual({ statusCode: status, error: STATUS_CODES[status], message: expect.any(String) });
  if (message !== undefined) expect(answer.json?.message).toMatch(message);
}

/** Nothing reached the queue or the registrations, and the API still answers. */
export async function expectNothingStoredAndApiUp(h: Harness, projectId: string) {
  const counts = await h.producer.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
  expect(Object.values(counts).reduce((sum, n) => sum + n, 0)).toBe(0);
  expect(await h.db.collection('registrations').countDocuments({ projectId })).toBe(0);
  expect((await fetch(`${h.api.url}/healthz`)).status).toBe(200);
}
