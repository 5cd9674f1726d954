import { initialLimitState, limitSignal, nextLimit, stuckAfterMs, type LimitSample, type LimitState } from './concurrency-limit';

const rule = { initial: 4, max: 100 };
/** Feed samples in order; each one `stepMs` after the last. Returns every state. */
function run(samples: Array<Omit<LimitSample, 'nowMs'>>, { start = initialLimitState(rule), stepMs = 1, t0 = 10_000 } = {}) {
  const states: LimitState[] = [];
  let state = start;
  samples.forEach((sample, i) => {
    state = nextLimit(state, { ...sample, nowMs: t0 + i * stepMs }, rule).state;
    states.push(state);
  });
  return states;
}
const ok = (durationMs: number, inFlight: number) => ({ signal: 'ok' as const, durationMs, inFlight });
const busyOk = (durationMs: number) => (state: LimitState) => ok(durationMs, Math.floor(state.limit));

/** Feed `count` answers taking `durationMs` while the endpoint is kept at its limit (a backlog). */
function saturate(count: number, durationMs: number, start = initialLimitState(rule), t0 = 10_000) {
  let state = start;
  for (let i = 0; i < count; i++) state = nextLimit(state, { ...busyOk(durationMs)(state), nowMs: t0 + i }, rule).state;
  return state;
}

describe('adaptive endpoint limit (nextLimit)', () => {
  it('starts at the initial limit, never above the ceiling', () => {
    expect(initialLimitState(rule).limit).toBe(4);
    expect(initialLimitState({ initial: 10, max: 3 }).limit).toBe(3);
  });

  it('slow start: a fast endpoint kept busy doubles its limit per round of answers and reaches the ceiling', () => {
    // Each answer at the limit adds 1: 4 answers take it from 4 to 8, 8 more to 16...
    expect(saturate(4, 1).limit).toBe(8);
    expect(saturate(12, 1).limit).toBe(16);
    const full = saturate(200, 1);
    expect(full.limit).toBe(100);
    expect(full.slowStart).toBe(true);
  });

  it('does not grow while the limit is not in use (fewer than half of it in flight)', () => {
    const states = run(Array.from({ length: 50 }, () => ok(1, 1)));
    // 1 in flight: grows while 1 x 2 >= limit, i.e. up to 3 at most (from the initial 4: never).
    expect(states.at(-1)!.limit).toBe(4);
    const idle = run(Array.from({ length: 50 }, () => ok(1, 2)));
    expect(idle.at(-1)!.limit).toBe(5); // 2 x 2 >= 4: one step to 5, then 2 x 2 < 5 stops it
  });

  it('an overload (timeout, 5xx, 429, connection error) halves it, once per window, ends slow start; floor 1', () => {
    const grown = saturate(60, 1); // 64
    expect(grown.limit).toBe(64);
    // 20 failures at the same moment: one cut.
    let state = grown;
    for (let i = 0; i < 20; i++) state = nextLimit(state, { signal: 'overload', durationMs: 0, inFlight: 64, nowMs: 50_000 }, rule).state;
    expect(state.limit).toBe(32);
    expect(state.slowStart).toBe(false);
    // One per window (250 ms) after that, down to the floor.
    for (let i = 1; i <= 10; i++)
      state = nextLimit(state, { signal: 'overload', durationMs: 0, inFlight: 1, nowMs: 50_000 + i * 250 }, rule).state;
    expect(state.limit).toBe(1);
  });

  it('after the first cut it grows additively: about +1 per limit-worth of answers', () => {
    const cut = nextLimit(saturate(28, 1), { signal: 'overload', durationMs: 0, inFlight: 32, nowMs: 60_000 }, rule).state;
    expect(cut.limit).toBe(16);
    const after = saturate(16 * 4, 1, cut, 70_000);
    expect(after.limit).toBeGreaterThan(19);
    expect(after.limit).toBeLessThan(21);
  });

  it('cuts when latency rises well above the baseline (1 ms -> 200 ms), not on jitter within the slack', () => {
    const fast = saturate(100, 1);
    expect(fast.limit).toBe(100);
    expect(fast.baselineMs).toBe(1);
    // Jitter: answers of 1-8 ms keep it (slack 10 ms over 2 x baseline).
    const jittery = run(
      Array.from({ length: 200 }, (_, i) => ok(1 + (i % 8), 100)),
      { start: fast },
    );
    expect(jittery.every((s) => s.limit === 100)).toBe(true);
    // The receiver turns slow.
    const slow = run(
      Array.from({ length: 20 }, () => ok(200, 100)),
      { start: fast, stepMs: 20 },
    );
    expect(slow.at(-1)!.limit).toBeLessThanOrEqual(50);
    expect(slow.at(-1)!.slowStart).toBe(false);
  });

  it('the baseline is a decaying minimum: it follows a lasting change, so the limit grows again at the new pace', () => {
    let state = saturate(100, 1);
    for (let i = 0; i < 400; i++) state = nextLimit(state, { ...busyOk(200)(state), nowMs: 100_000 + i * 50 }, rule).state;
    expect(state.baselineMs).toBeGreaterThan(100);
    const low = state.limit;
    for (let i = 0; i < 100; i++) state = nextLimit(state, { ...busyOk(200)(state), nowMs: 200_000 + i * 50 }, rule).state;
    expect(state.limit).toBeGreaterThan(low);
  });

  it('answers that say nothing about load (4xx, 3xx, blocked) leave it alone', () => {
    const start = saturate(10, 1);
    expect(nextLimit(start, { signal: 'none', durationMs: 0, inFlight: 100, nowMs: 1 }, rule).state).toBe(start);
  });
});

describe('limitSignal', () => {
  it('2xx is a sample; 5xx, 429, 408 and no answer are overload; other answers and blocked URLs are nothing', () => {
    expect(limitSignal({ ok: true, statusCode: 204 })).toBe('ok');
    for (const statusCode of [500, 502, 503, 504, 429, 408]) expect(limitSignal({ ok: false, statusCode })).toBe('overload');
    expect(limitSignal({ ok: false, error: 'ETIMEDOUT: Timeout awaiting request' })).toBe('overload');
    expect(limitSignal({ ok: false, error: 'ECONNREFUSED: connect ECONNREFUSED' })).toBe('overload');
    for (const statusCode of [301, 400, 401, 404, 410, 413]) expect(limitSignal({ ok: false, statusCode })).toBe('none');
    expect(limitSignal({ ok: false, error: 'blocked: port 25 is not allowed' })).toBe('none');
  });
});

describe('stuckAfterMs', () => {
  it('is 8x the baseline, at least the floor', () => {
    expect(stuckAfterMs(1, 250)).toBe(250);
    expect(stuckAfterMs(200, 250)).toBe(1_600);
  });
});
