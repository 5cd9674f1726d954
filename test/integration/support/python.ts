import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ReceivedWebhook } from '@novee/devkit';

/** The virtualenv made on the suite's first run (global-setup.ts) or by `npm run setup:python`: Flask, FastAPI, uvicorn, standardwebhooks. */
export const PYTHON = join(__dirname, '../../../.local/python/bin/python');

export function requirePython(): string {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run \`npm run setup:python\` first`);
  return PYTHON;
}

const VERIFY_WITH_STANDARDWEBHOOKS = `
import json, sys
from standardwebhooks import Webhook, WebhookVerificationError
job = json.load(sys.stdin)
results = []
for hook in job["hooks"]:
    try:
        Webhook(job["secret"]).verify(hook["body"].encode("utf-8"), hook["headers"])
        results.append(True)
    except WebhookVerificationError:
        results.append(False)
print(json.dumps(results))
`;

/** Verify received webhooks with the PyPI standardwebhooks package (one Python process for all of them). */
export function pythonStandardWebhooksVerifies(hooks: ReceivedWebhook[], secret: string): boolean[] {
  const job = {
    secret,
    hooks: hooks.map((hook) => ({
      body: hook.rawBody,
      headers: Object.fromEntries(
        ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => [name, String(hook.headers[name] ?? '')]),
      ),
    })),
  };
  return JSON.parse(
    execFileSync(requirePython(), ['-c', VERIFY_WITH_STANDARDWEBHOOKS], { input: JSON.stringify(job) }).toString(),
  ) as boolean[];
}
