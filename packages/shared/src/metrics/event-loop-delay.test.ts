import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { registerEventLoopDelay } from './event-loop-delay';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function delay(registry: Registry, quantile: string): Promise<number | undefined> {
  const metric = await registry.getSingleMetric('novee_event_loop_delay_seconds')!.get();
  return metric.values.find((v) => v.labels.quantile === quantile)?.value;
}

describe('event-loop delay metric', () => {
  it('reports a blocked event loop as its delay beyond the sampling interval, and starts over at each scrape', async () => {
    const registry = new Registry();
    registerEventLoopDelay(registry);
    await sleep(50);
    const blockedUntil = Date.now() + 300;
    while (Date.now() < blockedUntil); // hold the loop for 300 ms
    await sleep(20);
    expect(await delay(registry, '1')).toBeGreaterThanOrEqual(0.29);
    expect(await delay(registry, '0.5')).toBeLessThan(0.29); // most samples were on time
    // The next scrape covers only what came after this one: no 300 ms block is in it.
    await sleep(50);
    const max = await delay(registry, '1');
    expect(max === undefined || max < 0.29).toBe(true);
  });
});
