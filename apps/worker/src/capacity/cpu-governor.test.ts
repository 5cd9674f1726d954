import { describe, expect, it } from '@jest/globals';
import { CPU_GOVERNOR_DEFAULTS, governConcurrency, nextConcurrency } from './cpu-governor';

const options = { ...CPU_GOVERNOR_DEFAULTS, max: 100, min: 10 };

describe('CPU governor', () => {
  it('takes a quarter fewer jobs at once while the event loop is saturated, never below min', () => {
    let concurrency = 100;
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) seen.push((concurrency = nextConcurrency(concurrency, 0.99, options)));
    expect(seen.slice(0, 4)).toEqual([75, 56, 42, 31]);
    expect(concurrency).toBe(10);
  });

  it('takes more again once the loop has room, up to max, and holds between the thresholds', () => {
    expect(nextConcurrency(10, 0.3, options)).toBe(13);
    expect(nextConcurrency(90, 0.3, options)).toBe(100);
    expect(nextConcurrency(100, 0.1, options)).toBe(100);
    expect(nextConcurrency(40, 0.8, options)).toBe(40);
  });

  it('lowers a real worker-like object while its event loop is blocked', async () => {
    const worker = { concurrency: 100 };
    const governor = governConcurrency(worker, { ...options, intervalMs: 20 });
    try {
      const until = Date.now() + 300;
      while (Date.now() < until) {
        const busyUntil = Date.now() + 19;
        while (Date.now() < busyUntil); // a saturated event loop: almost no idle time between turns
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(worker.concurrency).toBeLessThan(100);
      expect(governor.saturated()).toBe(true);
    } finally {
      governor.stop();
    }
  });
});
