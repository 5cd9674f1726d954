import { setTimeout as sleep } from 'node:timers/promises';
import { CountingReceiver } from './support/counting-receiver';
import { flood } from './support/event-client';
import { FaultStack } from './support/fault-stack';
import { count, expectKept, report, waitForDeliveries, waitUntil, type Tally } from './support/tally';

// MongoDB (mongo-java-server on an H2 file, so its data survives) is stopped mid-flood for 12 s and started
// again on the same port: deliveries go on from the registration cache, and every attempt made meanwhile
// must still end up with exactly one record in `deliveries`.
const EVENTS = 1_000;
const MONGO_DOWN_MS = 12_000;

let stack: FaultStack | undefined;
let receiver: CountingReceiver | undefined;
afterAll(async () => {
  await stack?.stop();
  await receiver?.down();
});

it('MongoDB stop/start mid-flood: no event lost, every attempt has exactly one record', async () => {
  receiver = await CountingReceiver.start({ delayMs: 20 });
  stack = await FaultStack.start({ mongoOnDisk: true });
  await stack.startApi();
  const projects = await stack.registerProjects(10, (path) => receiver!.url(path));
  await stack.startWorker();
  await stack.startWorker();

  // 50 events/s for 20 s, so that the outage falls in the middle. Anything not answered 202 (should ingestion
  // need MongoDB) is resent with the same Idempotency-Key.
  const events = flood(stack.apiUrl, await stack.pipelineToken(), {
    count: EVENTS,
    projectIds: projects,
    perSecond: 50,
    resendForMs: 60_000,
  });
  expect(await waitUntil(() => receiver!.deliveries.length >= 200, 30_000)).toBe(true);
  await stack.stopMongo();
  const deliveredBefore = receiver.deliveries.length;
  await sleep(MONGO_DOWN_MS);
  const deliveredDuring = receiver.deliveries.length - deliveredBefore;
  await stack.restartMongo();
  const restartedAt = Date.now();
  await events.done;
  await waitForDeliveries(receiver, events.acks, 60_000);

  // Records written during the outage may only reach MongoDB after it is back: give them 30 s.
  const counts = await count(stack, receiver, events.acks, { recordsWithinMs: 30_000 });
  const t: Tally = {
    scenario: `MongoDB down ${MONGO_DOWN_MS / 1000} s mid-flood`,
    ...counts,
    // No bound promised: from the restart until every attempt's record was in MongoDB.
    recoverySeconds: counts.recordsCompleteAt === null ? null : Math.max(0, counts.recordsCompleteAt - restartedAt) / 1000,
    note: `${deliveredDuring} deliveries during the outage, ${events.unanswered} answers not 202 (resent), ${events.unacknowledged} never acknowledged`,
  };
  report(t);
  expect(events.unacknowledged).toBe(0);
  expectKept(t);
}, 240_000);
