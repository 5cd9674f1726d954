import { setTimeout as sleep } from 'node:timers/promises';
import { CountingReceiver } from './support/counting-receiver';
import { flood, resend } from './support/event-client';
import { FaultStack } from './support/fault-stack';
import { count, expectKept, report, secondsUntilAll, waitForDeliveries, waitUntil, type Tally } from './support/tally';

// The API process is killed (-9) in the middle of a burst and started again on the same port. The pipeline
// resends every event it got no 202 for, with the same Idempotency-Key and body. Whether the crash happens to
// fall between an enqueue and its 202 is luck (the window is short), so the pipeline also resends the last
// 50 events acknowledged before the crash, exactly as it would had those 202s been lost with the process.
const EVENTS = 1_000;
const REPLAYED = 50;

let stack: FaultStack | undefined;
let receiver: CountingReceiver | undefined;
afterAll(async () => {
  await stack?.stop();
  await receiver?.down();
});

it('API SIGKILL mid-burst, unacknowledged events resent with their Idempotency-Key: each delivered exactly once', async () => {
  receiver = await CountingReceiver.start();
  stack = await FaultStack.start();
  const api = await stack.startApi();
  const projects = await stack.registerProjects(10, (path) => receiver!.url(path));
  await stack.startWorker();
  const token = await stack.pipelineToken();

  // As fast as 64 concurrent requests go, so that many are inside the API when it dies.
  const events = flood(stack.apiUrl, token, {
    count: EVENTS,
    projectIds: projects,
    perSecond: 5_000,
    concurrency: 64,
    resendForMs: 30_000,
  });
  expect(await waitUntil(() => events.acks.length >= 300, 30_000)).toBe(true);
  const killedAt = Date.now();
  await stack.signal(api, 'SIGKILL');
  const replayed = events.acks.slice(-REPLAYED);
  await sleep(1_000);
  await stack.startApi();
  const restartedAt = Date.now();
  const sameEvent = (await Promise.all(replayed.map((ack) => resend(stack!.apiUrl, token, ack)))).filter(
    (id, i) => id === replayed[i]!.eventId,
  ).length;
  await events.done;
  await waitForDeliveries(receiver, events.acks, 30_000);

  // How often the crash itself fell between an enqueue and its 202 (the resent events that were already queued).
  let enqueuedUnacknowledged = 0;
  for (const ack of events.acks.filter((a) => a.tries > 1)) {
    const job = await stack.queue.getJob(ack.eventId);
    if (job && job.data.enqueuedAt < killedAt) enqueuedUnacknowledged++;
  }
  const t: Tally = {
    scenario: 'API SIGKILL mid-burst, keys resent',
    // Duplicates are counted per key (each event sent carries its own userUUID), so a second event for a key shows.
    ...(await count(stack, receiver, events.acks)),
    // No bound promised: from the restart until the last event arrived.
    recoverySeconds: secondsUntilAll(
      receiver,
      events.acks.map((ack) => ack.eventId),
      restartedAt,
    ),
    note:
      `${events.unanswered} answers not 202 (resent; ${enqueuedUnacknowledged} of those events were already queued), ` +
      `${sameEvent}/${REPLAYED} acknowledged events resent got their eventId back, ${events.unacknowledged} never acknowledged`,
  };
  report(t);
  expect(events.unacknowledged).toBe(0);
  expect(sameEvent).toBe(REPLAYED);
  expectKept(t, { noDuplicates: true });
}, 180_000);
