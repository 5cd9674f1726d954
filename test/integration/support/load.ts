import type { DeviceEvent } from '@novee/shared';
import type { Harness } from './harness';
import { fallDetection } from './fixtures';

/** Enqueue `count` events made by `event`, 50 at a time, straight through the producer. */
export async function enqueueMany(h: Harness, count: number, event: () => DeviceEvent): Promise<void> {
  for (let i = 0; i < count; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, count - i) }, () => h.producer.enqueue(event())));
  }
}

/**
 * Send `count` FALL_DETECTION events of `projectId` one at a time (each waits for the last to arrive at
 * `/<projectId>`, then `pauseMs`), and return each one's time from enqueue to receipt in ms.
 */
export async function deliveryLatencies(
  h: Harness,
  projectId: string,
  { count, timeoutMs, pauseMs = 0 }: { count: number; timeoutMs: number; pauseMs?: number },
): Promise<number[]> {
  const path = `/${projectId}`;
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const seen = h.receiver.receivedOn(path).length;
    const sent = Date.now();
    await h.producer.enqueue(fallDetection(projectId));
    const hooks = await h.receiver.waitFor(seen + 1, { path, timeoutMs });
    latencies.push(hooks[seen]!.receivedAt - sent);
    if (pauseMs) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  return latencies;
}
