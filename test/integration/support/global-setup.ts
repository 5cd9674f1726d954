import { startMongoJavaServer, startRedisServer } from '@novee/devkit';

/**
 * Real infrastructure for the integration suite: Redis from REDIS_URL or a throwaway redis-server (on PATH, else
 * the embedded-redis binary), MongoDB from MONGODB_URL or mongo-java-server. Test files read the URLs from the
 * environment. The devkit runs the Maven set-up step first when its outputs are missing (fresh clone).
 */
export default async function globalSetup(): Promise<void> {
  const stops: Array<() => Promise<void>> = [];
  if (!process.env.REDIS_URL) {
    const redis = await startRedisServer();
    process.env.REDIS_URL = redis.url;
    // One line, so a run's log says which Redis the suite ran against (CI runs it with and without redis-server).
    process.stdout.write(`\nintegration tests: ${redis.description}\n`);
    stops.push(redis.stop);
  } else {
    process.stdout.write('\nintegration tests: Redis at REDIS_URL\n');
  }
  if (!process.env.MONGODB_URL) {
    const mongo = await startMongoJavaServer();
    process.env.MONGODB_URL = mongo.url;
    stops.push(mongo.stop);
  }
  (globalThis as { __noveeInfraStops?: typeof stops }).__noveeInfraStops = stops;
}
