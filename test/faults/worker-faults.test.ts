import { CountingReceiver } from './support/counting-receiver';
import { flood } from './support/event-client';
import { FaultStack } from './support/fault-stack';
import { count, expectKept, report, secondsUntilAll, waitForDeliveries, waitUntil, type Tally } from './support/tally';

// Two worker processes share a flood of 1,000 events over 10 endpoints; one of them is killed or stopped
// mid-flood. Every setting is the product's default (lock duration, stalled check, shutdown timeout...).
const EVENTS = 1_000;
/** A crashed worker's in-flight events must reach their receivers within this many seconds of the crash. */
const CRASH_TAKEOVER_BOUND_S = 10;
/** How long to wait for everything to arrive before counting what has not as lost (bounds the test). */
const DELIVERY_WAIT_MS = 60_000;

let stack: FaultStack | undefined;
let receiver: CountingReceiver | undefined;
afterEach(async () => {
  await stack?.stop();
  await receiver?.down();
});

async function floodAndHit(signal: 'SIGKILL' | 'SIGTERM'): Promise<{ t: Tally; exitCode: number | null; activeAtHit: number }> {
  // Each answer takes 200 ms, so the victim always has deliveries in flight when it is hit.
  receiver = await CountingReceiver.start({ delayMs: 200 });
  stack = await FaultStack.start();
  await stack.startApi();
  const projects = await stack.registerProjects(10, (path) => receiver!.url(path));
  const victim = await stack.startWorker();
  await stack.startWorker();

  const events = flood(stack.apiUrl, await stack.pipelineToken(), { count: EVENTS, projectIds: projects, perSecond: 250 });
  expect(await waitUntil(() => receiver!.deliveries.length >= 300, 30_000)).toBe(true);
  const inFlight = await stack.queue.getRanges(['active'], 0, -1);
  const hitAt = Date.now();
  const exitCode = await stack.signal(victim, signal);
  await events.done;
  await waitForDeliveries(receiver, events.acks, DELIVERY_WAIT_MS);

  const t: Tally = {
    scenario: `worker ${signal} mid-flood (2 workers)`,
    ...(await count(stack, receiver, events.acks)),
    // SIGKILL: until the last job active at the crash arrived (the victim's; the survivor's finish at once).
    // SIGTERM (no bound promised): until the last accepted event arrived.
    recoverySeconds: secondsUntilAll(receiver, signal === 'SIGKILL' ? inFlight : events.acks.map((ack) => ack.eventId), hitAt),
    boundSeconds: signal === 'SIGKILL' ? CRASH_TAKEOVER_BOUND_S : undefined,
    note: `${inFlight.length} jobs active at the ${signal}; victim exit ${exitCode ?? signal}`,
  };
  report(t);
  return { t, exitCode, activeAtHit: inFlight.length };
}

it(`worker SIGKILL mid-flood: every event delivered, every attempt recorded once, in-flight events arrive within ${CRASH_TAKEOVER_BOUND_S} s`, async () => {
  const { t, activeAtHit } = await floodAndHit('SIGKILL');
  expect(t.accepted).toBe(EVENTS);
  // Delivery is at-least-once: a crash can repeat an event the receiver already took, but only one of those in
  // flight at that moment (with the same webhook-id, for the receiver to drop).
  expect(t.duplicates).toBeLessThanOrEqual(activeAtHit);
  expectKept(t);
}, 180_000);

it('worker SIGTERM mid-flood: every event delivered, every attempt recorded once, the worker exits 0', async () => {
  const { t, exitCode } = await floodAndHit('SIGTERM');
  expect(t.accepted).toBe(EVENTS);
  expectKept(t, { noDuplicates: true }); // a graceful stop lets in-flight deliveries finish: nothing repeats
  expect(exitCode).toBe(0);
}, 180_000);
