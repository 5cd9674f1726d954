import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SecretCipher, verifyWebhook } from '@novee/shared';
import { startLocalStack, type LocalStack } from '../local-stack';
import { WebhookReceiver } from '../webhook-receiver';

/**
 * Everything on this machine without Docker: Redis and mongo-java-server (unless REDIS_URL / MONGODB_URL
 * are given), a dev token issuer, the API and one worker as separate processes, and a demo receiver.
 * `--smoke` runs the whole flow once (register, TEST, verify the signature) and exits 0 only if it worked.
 */
const ROOT = resolve(__dirname, '../../../..');
const DEMO_PROJECT = 'demo';
const DEV_SUBJECT = 'dev|local-user';

async function main(): Promise<number> {
  const smoke = process.argv.includes('--smoke');
  const dataDir = join(ROOT, '.local');
  mkdirSync(join(dataDir, 'redis'), { recursive: true });
  // Fixed ports in the interactive run so printed commands stay valid; any free port for --smoke.
  const port = (name: string, fallback: number) => Number(process.env[name] ?? (smoke ? 0 : fallback));

  const receiver = await WebhookReceiver.start({ port: port('DEMO_RECEIVER_PORT', 3002) });
  receiver.respondWith((hook) => {
    console.log(`[demo receiver] ${String(hook.headers['x-event-type'])} ${String(hook.headers['x-event-id'])} ${hook.rawBody}`);
    return { status: 200 };
  });
  let stack: LocalStack | undefined;
  try {
    stack = await startLocalStack({
      dataDir: smoke ? undefined : dataDir,
      secretsEncryptionKeys: process.env.SECRETS_ENCRYPTION_KEYS ?? localEncryptionKey(dataDir, smoke),
      ports: {
        api: port('PORT', 3000),
        issuer: port('DEV_ISSUER_PORT', 3001),
        apiMetrics: port('API_METRICS_PORT', 9464),
        workerMetrics: port('WORKER_METRICS_PORT', 9465),
      },
      showLogs: true,
    });
    await stack.startWorker();
    await stack.addProject(DEMO_PROJECT, [DEV_SUBJECT]);
    if (smoke) return await runSmoke(stack, receiver);

    printHowTo(stack, receiver.url('/demo'), await existingRegistration(stack));
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    return 0;
  } finally {
    await stack?.stop();
    await receiver.stop();
  }
}

/** The local run keeps its data in .local/, so its secrets key must persist there too (dev only). */
function localEncryptionKey(dataDir: string, ephemeral: boolean): string {
  if (ephemeral) return SecretCipher.generateKeyEntry('smoke');
  const file = join(dataDir, 'secrets-encryption-key');
  if (!existsSync(file)) writeFileSync(file, SecretCipher.generateKeyEntry('local'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

async function runSmoke(stack: LocalStack, receiver: WebhookReceiver): Promise<number> {
  const token = await stack.issuer.issueToken({ sub: DEV_SUBJECT });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(stack.apiUrl + path, {
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

/** The demo project's webhook from an earlier run (data is kept in .local/), if there is one. */
async function existingRegistration(stack: LocalStack): Promise<{ url: string } | undefined> {
  const token = await stack.issuer.issueToken({ sub: DEV_SUBJECT });
  const res = await fetch(`${stack.apiUrl}/webhooks/project/${DEMO_PROJECT}`, { headers: { authorization: `Bearer ${token}` } });
  return res.status === 200 ? ((await res.json()) as { url: string }) : undefined;
}

function printHowTo(stack: LocalStack, receiverUrl: string, registered: { url: string } | undefined): void {
  const { apiUrl } = stack;
  const issuerUrl = stack.issuer.issuer;
  const auth = '-H "authorization: Bearer $TOKEN"';
  const register = `curl -s -X POST ${apiUrl}/webhooks/register ${auth} -H 'content-type: application/json' \\
     -d '{"projectId":"${DEMO_PROJECT}","url":"${receiverUrl}","types":["FALL_DETECTION","VITAL_THRESHOLD"]}'`;
  const step2 = registered
    ? `2. Project "${DEMO_PROJECT}" already has a webhook (${registered.url}) from an earlier run, so registering again
   answers 409 "Webhook has already been registered previously". Either get a new secret for it:
   curl -s -X POST ${apiUrl}/webhooks/project/${DEMO_PROJECT}/secret/rotate ${auth}
   or delete it and register again (loopback http is allowed in this local run only):
   curl -s -X DELETE ${apiUrl}/webhooks/project/${DEMO_PROJECT} ${auth}
   ${register}`
    : `2. Register a webhook (loopback http is allowed in this local run only); keep the secret it returns:
   ${register}`;
  console.log(`
Novee webhooks is running locally (Ctrl-C stops everything).
  API:            ${apiUrl}   (Swagger UI: ${apiUrl}/docs, OpenAPI: ${apiUrl}/openapi.json)
  token issuer:   ${issuerUrl}
  demo receiver:  ${receiverUrl}   (prints every webhook it gets)
  demo project:   "${DEMO_PROJECT}", member "${DEV_SUBJECT}"
  metrics:        ${stack.apiMetricsUrl} (API), ${stack.workerMetricsUrls.join(', ')} (worker)
  Redis:          ${stack.redisUrl}   (${stack.describes.redis})
  MongoDB:        ${stack.mongodbUrl}   (${stack.describes.mongodb}, database ${stack.env.MONGODB_DB ?? 'novee_webhooks'})

1. Get an access token (add "scope":"events:write" to post events):
   TOKEN=$(curl -s -X POST ${issuerUrl}oauth/token -H 'content-type: application/json' \\
     -d '{"sub":"${DEV_SUBJECT}","scope":"events:write"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
${step2}
3. Send a TEST event through the queue and worker:
   curl -s -X POST ${apiUrl}/webhooks/test/project/${DEMO_PROJECT} ${auth}
Another project, with you as its member (in a second terminal, while this runs):
   MONGODB_URL=${stack.mongodbUrl} MONGODB_DB=${stack.env.MONGODB_DB ?? 'novee_webhooks'} npm run cli -- project:create --id my-project --member '${DEV_SUBJECT}'
`);
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`start-local failed: ${error.message}`);
    process.exit(1);
  },
);
