import { DEFAULT_RETRY_SCHEDULE, attemptsFor, parseRetrySchedule, retryDelay, scheduleSpanMs } from './retry-schedule';

describe('retry schedule', () => {
  it('defaults to about a day: 5s, 5m, 30m, 2h, 5h, 10h', () => {
    const schedule = parseRetrySchedule(DEFAULT_RETRY_SCHEDULE);
    expect(schedule).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000]);
    expect(attemptsFor(schedule)).toBe(7);
    expect(scheduleSpanMs(schedule) / 3_600_000).toBeCloseTo(17.6, 1);
  });

  it('parses units and rejects nonsense, naming it', () => {
    expect(parseRetrySchedule('250ms, 1s,1d')).toEqual([250, 1_000, 86_400_000]);
    expect(parseRetrySchedule('')).toEqual([]);
    expect(parseRetrySchedule('none')).toEqual([]);
    expect(() => parseRetrySchedule('5s,soon')).toThrow('"soon" is not a duration');
  });

  it('jitters each delay within ±20% and repeats the last one past the end', () => {
    const schedule = [1_000, 10_000];
    expect(retryDelay(schedule, 1, () => 0)).toBe(800);
    expect(retryDelay(schedule, 1, () => 1)).toBe(1_200);
    expect(retryDelay(schedule, 2, () => 0.5)).toBe(10_000);
    expect(retryDelay(schedule, 5, () => 0.5)).toBe(10_000);
    for (let i = 0; i < 100; i++) {
      const delay = retryDelay(schedule, 1);
      expect(delay).toBeGreaterThanOrEqual(800);
      expect(delay).toBeLessThanOrEqual(1_200);
    }
  });
});
