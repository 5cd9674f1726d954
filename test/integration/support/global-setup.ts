import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startMongoJavaServer, startRedisServer } from '@novee/devkit';
import { PYTHON } from './python';

/**
 * Real infrastructure for the integration suite: Redis from REDIS_URL or a throwaway redis-server (on PATH, else
 * the embedded-redis binary), MongoDB from MONGODB_URL or mongo-java-server. Test files read the URLs from the
 * environment. The devkit runs the Maven set-up step first when its outputs are missing (fresh clone); the
 * documented Python receivers' virtualenv is made here likewise (PyPI), so `npm install && npm test` is enough.
 */
export default async function globalSetup(): Promise<void> {
  if (!existsSync(PYTHON)) {
    execFileSync('bash', [join(__dirname, '../../../tools/receivers/setup-python.sh')], { stdio: 'inherit' });
  }
  const stops: Array<() => Promise<void>> = [];
  if (!process.env.REDIS_URL) {
    const redis = await startRedisServer();
    process.env.REDIS_URL = redis.url;
    // One line, so a run's log says which Redis the suite ran against (CI runs it with and without redis-server).
    process.stdout.write(`\nintegration tests: ${redis.description}\n`);
    stops.push(() => redis.stop());
  } else {
    process.stdout.write('\nintegration tests: Redis at REDIS_URL\n');
  }
  if (!process.env.MONGODB_URL) {
    const mongo = await startMongoJavaServer();
    process.env.MONGODB_URL = mongo.url;
    stops.push(() => mongo.stop());
  }
  (globalThis as { __noveeInfraStops?: typeof stops }).__noveeInfraStops = stops;
}
