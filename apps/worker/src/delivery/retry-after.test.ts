import { isThrottleStatus, parseRetryAfter, stretchRetryDelay } from './retry-after';

describe('parseRetryAfter', () => {
  const now = Date.parse('Wed, 25 Nov 2026 12:00:00 GMT');

  it('reads a delay in seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP date as the time left until it', () => {
    expect(parseRetryAfter('Wed, 25 Nov 2026 12:01:30 GMT', now)).toBe(90_000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 11:00:00 GMT', now)).toBe(0);
  });

  it('ignores what is absent or unreadable', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  it('honours it on 429 and 503 only', () => {
    expect([429, 503, 500, 410, undefined].map(isThrottleStatus)).toEqual([true, true, false, false, false]);
  });
});

describe('stretchRetryDelay', () => {
  it('keeps the scheduled delay unless the receiver asked for longer', () => {
    expect(stretchRetryDelay(5_000, undefined, 60_000)).toBe(5_000);
    expect(stretchRetryDelay(5_000, 1_000, 60_000)).toBe(5_000);
    expect(stretchRetryDelay(5_000, 30_000, 60_000)).toBe(30_000);
  });

  it('never goes past the retry window, nor below the schedule', () => {
    expect(stretchRetryDelay(5_000, 300_000, 60_000)).toBe(60_000);
    expect(stretchRetryDelay(5_000, 300_000, 1_000)).toBe(5_000);
  });
});
