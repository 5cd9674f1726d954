import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import { SecretCipher, projectsCollection, verifyWebhook } from '@novee/shared';
import { spawnUntilReady, stopProcess, type RunningProcess } from '../child-process';
import { startMongoJavaServer } from '../mongo-java-server';
import { startRedisServer } from '../redis-server';
import { LocalTokenIssuer } from '../token-issuer';
import { WebhookReceiver } from '../webhook-receiver';

/**
 * Everything on this machine without Docker: Redis and mongo-java-server (unless REDIS_URL / MONGODB_URL
 * are given), a dev token issuer, the API and one worker as separate processes, and a demo receiver.
 * `--smoke` runs the whole flow once (register, TEST, verify the signature) and exits 0 only if it worked.
 */
const ROOT = resolve(__dirname, '../../../..');
const AUDIENCE = 'https://api.novee.local';
const DEMO_PROJECT = 'demo';
const DEV_SUBJECT = 'dev|local-user';

async function main(): Promise<number> {
  const smoke = process.argv.includes('--smoke');
  const dataDir = join(ROOT, '.local');
  mkdirSync(join(dataDir, 'redis'), { recursive: true });
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const redisUrl = process.env.REDIS_URL ?? (await track(stops, startRedisServer({ dataDir: smoke ? undefined : join(dataDir, 'redis') }))).url;
    const mongoUrl = process.env.MONGODB_URL ?? (await track(stops, startMongoJavaServer(smoke ? {} : { h2File: join(dataDir, 'mongo.h2') }))).url;
    // Fixed ports in the interactive run so printed commands stay valid; any free port for --smoke.
    const port = (name: string, fallback: number) => Number(process.env[name] ?? (smoke ? 0 : fallback));
    const issuer = await LocalTokenIssuer.start({ audience: AUDIENCE, port: port('DEV_ISSUER_PORT', 3001) });
    stops.push(() => issuer.stop());
    const receiver = await WebhookReceiver.start({ port: port('DEMO_RECEIVER_PORT', 3002) });
    stops.push(() => receiver.stop());
    receiver.respondWith((hook) => {
      console.log(`[demo receiver] ${hook.headers['x-event-type']} ${hook.headers['x-event-id']} ${hook.rawBody}`);
      return { status: 200 };
    });

    const env = {
      ...process.env,
      REDIS_URL: redisUrl,
      MONGODB_URL: mongoUrl,
      AUTH0_ISSUER_BASE_URL: issuer.issuer,
      AUTH0_AUDIENCE: AUDIENCE,
      WEBHOOK_ALLOW_HTTP_LOOPBACK: 'true',
      SECRETS_ENCRYPTION_KEYS: process.env.SECRETS_ENCRYPTION_KEYS ?? localEncryptionKey(dataDir, smoke),
      HOST: '127.0.0.1',
      PORT: String(port('PORT', 3000)),
    };
    const api = await startNode('apps/api/dist/main.js', { ...env, METRICS_PORT: String(port('API_METRICS_PORT', 9464)) }, /"message":"api listening"/);
    stops.push(() => stopProcess(api.child));
    const apiUrl = JSON.parse(api.match.input!).url as string;
    const worker = await startNode('apps/worker/dist/main.js', { ...env, METRICS_PORT: String(port('WORKER_METRICS_PORT', 9465)) }, /"message":"worker started"/);
    stops.push(() => stopProcess(worker.child));

    await addDemoProject(mongoUrl, process.env.MONGODB_DB);
    if (smoke) return await runSmoke(apiUrl, issuer, receiver);

    printHowTo(apiUrl, issuer.issuer, receiver.url('/demo'));
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    return 0;
  } finally {
    await stopAll();
  }
}

/** The local run keeps its data in .local/, so its secrets key must persist there too (dev only). */
function localEncryptionKey(dataDir: string, ephemeral: boolean): string {
  if (ephemeral) return SecretCipher.generateKeyEntry('smoke');
  const file = join(dataDir, 'secrets-encryption-key');
  if (!existsSync(file)) writeFileSync(file, SecretCipher.generateKeyEntry('local'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

async function track<T extends { stop(): Promise<void> }>(stops: Array<() => Promise<void>>, starting: Promise<T>): Promise<T> {
  const started = await starting;
  stops.push(() => started.stop());
  return started;
}

function startNode(script: string, env: NodeJS.ProcessEnv, ready: RegExp): Promise<RunningProcess> {
  const child = spawnUntilReady(process.execPath, [join(ROOT, script)], ready, { env, name: script, timeoutMs: 30_000 });
  return child.then((running) => {
    running.child.stdout?.pipe(process.stdout);
    running.child.stderr?.pipe(process.stderr);
    return running;
  });
}

async function addDemoProject(mongoUrl: string, dbName = 'novee_webhooks'): Promise<void> {
  const client = new MongoClient(mongoUrl);
  try {
    await projectsCollection(client.db(dbName)).updateOne(
      { _id: DEMO_PROJECT },
      { $addToSet: { members: DEV_SUBJECT } },
      { upsert: true },
    );
  } finally {
    await client.close();
  }
}

async function runSmoke(apiUrl: string, issuer: LocalTokenIssuer, receiver: WebhookReceiver): Promise<number> {
  const token = await issuer.issueToken({ sub: DEV_SUBJECT });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(apiUrl + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, string> };
  };
  await call('DELETE', `/webhooks/project/${DEMO_PROJECT}`);
  const registered = await call('POST', '/webhooks/register', {
    projectId: DEMO_PROJECT,
    url: receiver.url('/demo'),
    types: ['FALL_DETECTION', 'VITAL_THRESHOLD'],
  });
  if (registered.status !== 201) throw new Error(`register answered ${registered.status}: ${JSON.stringify(registered.body)}`);
  const test = await call('POST', `/webhooks/test/project/${DEMO_PROJECT}`);
  const [hook] = await receiver.waitFor(1, { timeoutMs: 10_000 });
  const verified = verifyWebhook(hook!.rawBody, hook!.headers, registered.body.secret!);
  console.log(`smoke: test endpoint answered ${test.status} ${JSON.stringify(test.body)}`);
  console.log(`smoke: receiver got ${hook!.rawBody}, signature ${verified ? 'valid' : 'INVALID'}`);
  return verified && hook!.rawBody === '{"test":"test"}' ? 0 : 1;
}

function printHowTo(apiUrl: string, issuerUrl: string, receiverUrl: string): void {
  console.log(`
Novee webhooks is running locally (Ctrl-C stops everything).
  API:            ${apiUrl}
  token issuer:   ${issuerUrl}
  demo receiver:  ${receiverUrl}   (prints every webhook it gets)
  demo project:   "${DEMO_PROJECT}", member "${DEV_SUBJECT}"

1. Get an access token (add "scope":"events:write" to post events):
   TOKEN=$(curl -s -X POST ${issuerUrl}oauth/token -H 'content-type: application/json' \\
     -d '{"sub":"${DEV_SUBJECT}","scope":"events:write"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
2. Register a webhook (http is allowed on loopback in this local run only); keep the secret it returns:
   curl -s -X POST ${apiUrl}/webhooks/register -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
     -d '{"projectId":"${DEMO_PROJECT}","url":"${receiverUrl}","types":["FALL_DETECTION","VITAL_THRESHOLD"]}'
3. Send a TEST event through the queue and worker:
   curl -s -X POST ${apiUrl}/webhooks/test/project/${DEMO_PROJECT} -H "authorization: Bearer $TOKEN"
Other projects: npm run cli -- project:create --id P --member SUB  (with MONGODB_URL set to this run's MongoDB)
`);
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`start-local failed: ${error.message}`);
    process.exit(1);
  },
);
