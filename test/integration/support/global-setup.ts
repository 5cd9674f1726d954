import { startMongoJavaServer, startRedisServer } from '@novee/devkit';

/**
 * Real infrastructure for the integration suite: Redis from REDIS_URL or a throwaway redis-server, MongoDB
 * from MONGODB_URL or mongo-java-server. Test files read the URLs from the environment.
 */
export default async function globalSetup(): Promise<void> {
  const stops: Array<() => Promise<void>> = [];
  if (!process.env.REDIS_URL) {
    const redis = await startRedisServer();
    process.env.REDIS_URL = redis.url;
    stops.push(redis.stop);
  }
  if (!process.env.MONGODB_URL) {
    const mongo = await startMongoJavaServer();
    process.env.MONGODB_URL = mongo.url;
    stops.push(mongo.stop);
  }
  (globalThis as { __noveeInfraStops?: typeof stops }).__noveeInfraStops = stops;
}
