import { setTimeout as sleep } from 'node:timers/promises';
import { CountingReceiver } from './support/counting-receiver';
import { flood } from './support/event-client';
import { FaultStack } from './support/fault-stack';
import { count, expectKept, report, waitForDeliveries, waitUntil, type Tally } from './support/tally';

// redis-server is killed with -9 mid-flood and started again on the same AOF, with Redis' own default fsync
// policy for an AOF (everysec). A kill -9 of the process loses nothing Redis has answered: the reply is sent
// after the write(2) to the AOF, and the kernel keeps that data. (What everysec can lose, up to about a second
// of writes, is on a crash of the whole host, which this test cannot stage; `appendfsync always` closes that.)
const EVENTS = 1_000;
const REDIS_DOWN_MS = 2_000;

let stack: FaultStack | undefined;
let receiver: CountingReceiver | undefined;
afterAll(async () => {
  await stack?.stop();
  await receiver?.down();
});

it('Redis kill -9 and restart on the same AOF mid-flood: every event answered 202 is delivered, every attempt recorded once', async () => {
  // One endpoint answering in 100 ms, its adaptive limit held to a ceiling of 10 (ENDPOINT_MAX_IN_FLIGHT), takes
  // about 100 events/s: the flood of 150/s builds a backlog, so the crash hits events waiting in Redis, not only
  // ones already delivered. (With the default ceiling its limit would grow past the flood, leaving no backlog.)
  receiver = await CountingReceiver.start({ delayMs: 100 });
  stack = await FaultStack.start({ appendfsync: 'everysec', env: { ENDPOINT_MAX_IN_FLIGHT: '10' } });
  await stack.startApi();
  const projects = await stack.registerProjects(1, (path) => receiver!.url(path));
  await stack.startWorker();
  await stack.startWorker();

  // The pipeline resends what was not answered 202 (503 while Redis is down) with the same Idempotency-Key.
  const events = flood(stack.apiUrl, await stack.pipelineToken(), {
    count: EVENTS,
    projectIds: projects,
    perSecond: 150,
    resendForMs: 30_000,
  });
  expect(await waitUntil(() => events.acks.length >= 300, 30_000)).toBe(true);
  const killedAt = Date.now();
  await stack.killRedis();
  const backlog = events.acks.filter((ack) => !(receiver!.firstDelivery(ack.eventId)! <= killedAt)).length;
  await sleep(REDIS_DOWN_MS);
  await stack.restartRedis();
  const restartedAt = Date.now();
  await events.done;
  const beforeCrash = events.acks.filter((ack) => ack.at < killedAt);
  await waitForDeliveries(receiver, events.acks, 60_000);

  const t: Tally = {
    scenario: 'Redis kill -9 + restart (AOF everysec)',
    ...(await count(stack, receiver, events.acks)),
    // No bound promised: from the restart until deliveries resumed.
    recoverySeconds: receiver.secondsToFirstDeliveryAfter(restartedAt),
    note: `${beforeCrash.length} answered 202 before the crash (${backlog} of them not yet delivered), ${events.unanswered} answers not 202 (resent), ${events.unacknowledged} never acknowledged`,
  };
  report(t);
  expect(events.unacknowledged).toBe(0);
  expectKept(t);
}, 180_000);
