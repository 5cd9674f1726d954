import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  deliveriesCollection,
  generateWebhookSecret,
  projectsCollection,
  registrationsCollection,
  requireSecretCipher,
  signatureHeaders,
  standardWebhookHeaders,
  type DeliveryRecord,
} from '@novee/shared';
import { eventually, startHarness, type Harness } from './support/harness';
import { payloadCorpus } from './support/payload-corpus';
import { requirePython } from './support/python';

/**
 * Every receiver example in docs/receiving-webhooks.md (fenced blocks tagged `example=<name>`) is extracted,
 * started as its own process, registered as a project's webhook and sent the payload corpus through the API,
 * the queue and the worker: real deliveries, verified by the documented code itself.
 */
const ROOT = join(__dirname, '../..');
const DOC = join(ROOT, 'docs/receiving-webhooks.md');
const WORK_DIR = join(ROOT, '.local/receiver-examples'); // inside the repo, so Node finds its node_modules

/** What each documented example must do; a new example in the doc without an entry here fails the suite. */
const EXPECTED: Record<string, { accepts: 'everything' | 'only-what-python-reserializes'; legacyHexSecret: boolean }> = {
  'node-express': { accepts: 'everything', legacyHexSecret: false },
  'node-standardwebhooks': { accepts: 'everything', legacyHexSecret: true },
  'python-flask': { accepts: 'everything', legacyHexSecret: true },
  'python-fastapi': { accepts: 'everything', legacyHexSecret: false },
  'python-standardwebhooks': { accepts: 'everything', legacyHexSecret: true },
  'python-flask-x-signature': { accepts: 'everything', legacyHexSecret: false },
  go: { accepts: 'everything', legacyHexSecret: true },
  'python-flask-reserialized-broken': { accepts: 'only-what-python-reserializes', legacyHexSecret: false },
};

interface Example {
  name: string;
  language: string;
  code: string;
}

function extractExamples(markdown: string): Example[] {
  const examples: Example[] = [];
  for (const match of markdown.matchAll(/^```(\w+) example=([\w-]+)\n([\s\S]*?)^```$/gm)) {
    examples.push({ language: match[1]!, name: match[2]!, code: match[3]! });
  }
  return examples;
}

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** How to start an extracted example (Go is compiled first). */
async function commandFor(example: Example): Promise<[string, string[]]> {
  const base = join(WORK_DIR, example.name);
  if (example.language === 'js') {
    writeFileSync(`${base}.mjs`, example.code);
    return [process.execPath, [`${base}.mjs`]];
  }
  if (example.language === 'python') {
    writeFileSync(`${base}.py`, example.code);
    return [requirePython(), [`${base}.py`]];
  }
  if (example.language === 'go') {
    writeFileSync(`${base}.go`, example.code);
    await run('go', ['build', '-o', base, `${base}.go`], { cwd: WORK_DIR, timeout: 240_000 });
    return [base, []];
  }
  throw new Error(`no runner for ${example.language} (example ${example.name})`);
}

interface RunningExample {
  example: Example;
  projectId: string;
  secret: string;
  url: string;
  process: ChildProcess;
  output: () => string;
}

let h: Harness;
const examples = extractExamples(readFileSync(DOC, 'utf8'));
const running = new Map<string, RunningExample>();

async function startExample(example: Example): Promise<RunningExample> {
  const port = await freePort();
  const projectId = `docs-${example.name}`;
  const url = `http://127.0.0.1:${port}/webhooks/novee`;
  await projectsCollection(h.db).insertOne({ _id: projectId, members: ['auth0|member'] });
  let secret: string;
  if (EXPECTED[example.name]?.legacyHexSecret) {
    // A registration made before Standard Webhooks support: whsec_ + 64 hex, as it is stored (encrypted).
    secret = 'whsec_' + Buffer.from(generateWebhookSecret().slice(6), 'base64').toString('hex');
    const now = new Date();
    await registrationsCollection(h.db).insertOne({
      projectId,
      url,
      types: ['FALL_DETECTION', 'VITAL_THRESHOLD'],
      secret: requireSecretCipher(h.config).encrypt(secret),
      createdAt: now,
      updatedAt: now,
    });
  } else {
    const res = await h.request('POST', '/webhooks/register', {
      token: await h.token('auth0|member'),
      body: { projectId, url, types: ['FALL_DETECTION', 'VITAL_THRESHOLD'] },
    });
    if (res.status !== 201) throw new Error(`register ${projectId}: ${res.status} ${JSON.stringify(res.body)}`);
    secret = res.body.secret;
  }

  const [command, args] = await commandFor(example);
  let output = '';
  const child = spawn(command, args, {
    cwd: WORK_DIR,
    env: { ...process.env, NOVEE_WEBHOOK_SECRET: secret, PORT: String(port), HOST: '127.0.0.1', PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const started: RunningExample = { example, projectId, secret, url, process: child, output: () => output };

  // Ready once it answers HTTP at all (a GET on the POST route gets a 404/405).
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`example ${example.name} exited (${child.exitCode}):\n${output}`);
    const answered = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      () => true,
      () => false,
    );
    if (answered) return started;
    if (Date.now() > deadline) throw new Error(`example ${example.name} did not start listening within 60 s:\n${output}`);
    await sleep(100);
  }
}

beforeAll(async () => {
  mkdirSync(WORK_DIR, { recursive: true });
  h = await startHarness({ workers: 1 });
  const results = await Promise.allSettled(examples.map(async (example) => running.set(example.name, await startExample(example))));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length) throw new Error(failed.map((r) => (r.reason instanceof Error ? r.reason.message : String(r.reason))).join('\n\n'));
}, 300_000);

afterAll(async () => {
  for (const { process: child } of running.values()) child.kill('SIGTERM');
  await h?.stop();
});

it('the doc’s examples are exactly the ones this test knows how to judge', () => {
  expect(examples.map((e) => e.name).sort()).toEqual(Object.keys(EXPECTED).sort());
});

/** The first attempt's record for each event (the worker writes one per attempt). */
async function firstAttempts(eventIds: string[]): Promise<DeliveryRecord[]> {
  return eventually(async () => {
    const records = await deliveriesCollection(h.db)
      .find({ eventId: { $in: eventIds }, attempt: 1 })
      .toArray();
    return records.length === eventIds.length ? eventIds.map((id) => records.find((r) => r.eventId === id)!) : null;
  }, 20_000);
}

/** A request signed by us (both schemes), sent straight to the example. */
async function postSigned(target: RunningExample, options: { id: string; secret?: string; signedAt?: number }) {
  const body = '{"test":"test"}';
  const secret = options.secret ?? target.secret;
  const signedAt = options.signedAt ?? Date.now();
  const res = await fetch(target.url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'X-Event-Id': options.id,
      'X-Event-Type': 'TEST',
      ...signatureHeaders(secret, body, signedAt),
      ...standardWebhookHeaders(options.id, [secret], body, signedAt),
    },
    body,
  });
  return res.status;
}

describe.each(Object.keys(EXPECTED))('docs example %s', (name) => {
  it('verifies real deliveries of the whole payload corpus (or, for the “don’t” example, fails exactly where the doc says)', async () => {
    const target = running.get(name)!;
    const pipeline = await h.token('pipeline@clients', 'events:write:any');
    const corpus = payloadCorpus();
    const sent: Array<{ eventId: string; name: string; pythonReserializes: boolean }> = [];
    for (const entry of corpus) {
      const res = await h.request('POST', '/events', {
        token: pipeline,
        body: { projectId: target.projectId, userUUID: entry.data.userUUID, webhookType: entry.webhookType, data: entry.data },
      });
      expect(res.status).toBe(202);
      sent.push({ eventId: res.body.eventId, name: entry.name, pythonReserializes: entry.pythonReserializes });
    }
    const test = await h.request('POST', `/webhooks/test/project/${target.projectId}`, { token: await h.token('auth0|member') });
    expect([200, 202]).toContain(test.status);
    sent.push({ eventId: test.body.eventId, name: 'TEST', pythonReserializes: true });

    const records = await firstAttempts(sent.map((s) => s.eventId));
    const outcome = sent.map((s, i) => ({ payload: s.name, status: records[i]!.status, statusCode: records[i]!.statusCode }));
    const expectedOutcome = sent.map((s) => {
      const accepted = EXPECTED[name]!.accepts === 'everything' || s.pythonReserializes;
      return { payload: s.name, status: accepted ? 'delivered' : 'failed', statusCode: accepted ? 200 : 401 };
    });
    expect(outcome).toEqual(expectedOutcome);

    // Each accepted event was handled once (the example printed its id once). Its output reaches us through a
    // pipe, possibly after the delivery record: wait for the expected lines, then compare.
    const printed = () =>
      sent.map((s) => ({
        payload: s.name,
        printed: target
          .output()
          .split('\n')
          .filter((line) => line.startsWith(`verified ${s.eventId} `)).length,
      }));
    const expectedPrinted = sent.map((s, i) => ({ payload: s.name, printed: expectedOutcome[i]!.status === 'delivered' ? 1 : 0 }));
    await eventually(() => JSON.stringify(printed()) === JSON.stringify(expectedPrinted), 10_000).catch(() => undefined);
    expect(printed()).toEqual(expectedPrinted);
  });

  it('refuses a forged signature with 401', async () => {
    const target = running.get(name)!;
    expect(await postSigned(target, { id: `forged-${name}`, secret: generateWebhookSecret() })).toBe(401);
    expect(target.output()).not.toContain(`verified forged-${name}`);
  });

  if (EXPECTED[name]!.accepts === 'everything') {
    it('refuses a genuine signature made 10 minutes ago (replay), and handles a repeated event once', async () => {
      const target = running.get(name)!;
      expect(await postSigned(target, { id: `stale-${name}`, signedAt: Date.now() - 10 * 60_000 })).toBe(401);
      expect(await postSigned(target, { id: `repeat-${name}` })).toBe(200);
      expect(await postSigned(target, { id: `repeat-${name}` })).toBe(200);
      const repeats = () =>
        target
          .output()
          .split('\n')
          .filter((line) => line.startsWith(`verified repeat-${name} `)).length;
      await eventually(() => repeats() >= 1, 10_000);
      await sleep(200); // a second line, if the example printed one, would be in the pipe by now
      expect(repeats()).toBe(1);
      expect(target.output()).not.toContain(`verified stale-${name}`);
    });
  }
});
