import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { MongoClient } from 'mongodb';
import { SecretCipher, projectsCollection } from '@novee/shared';
import { spawnUntilReady, stopProcess, type RunningProcess } from './child-process';
import { startMongoJavaServer } from './mongo-java-server';
import { startRedisServer } from './redis-server';
import { LocalTokenIssuer } from './token-issuer';

const ROOT = resolve(__dirname, '../../..');
export const LOCAL_AUDIENCE = 'https://api.novee.local';

export interface LocalStackOptions {
  /** Keep Redis and MongoDB data here (else in memory / throwaway). */
  dataDir?: string;
  secretsEncryptionKeys: string;
  ports?: { api?: number; issuer?: number; apiMetrics?: number; workerMetrics?: number };
  /** Extra environment for the API and workers. */
  env?: Record<string, string>;
  /** Pipe the processes' logs to ours. */
  showLogs?: boolean;
  /** Called with every line the API and worker processes write (their JSON log lines). */
  onLogLine?: (line: string) => void;
}

export interface LocalStack {
  apiUrl: string;
  /** The API's Prometheus endpoint, and each started worker's. */
  apiMetricsUrl: string;
  workerMetricsUrls: string[];
  redisUrl: string;
  mongodbUrl: string;
  /** What serves Redis and MongoDB, for people reading the local run's banner. */
  describes: { redis: string; mongodb: string };
  issuer: LocalTokenIssuer;
  env: NodeJS.ProcessEnv;
  /** Start one more worker process; returns a function that stops it (SIGTERM). */
  startWorker(extraEnv?: Record<string, string>): Promise<() => Promise<void>>;
  addProject(projectId: string, members: string[]): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Redis and mongo-java-server (unless REDIS_URL / MONGODB_URL are set), a token issuer, and the API as a
 * separate process, exactly as the local run and the benchmark need them. Workers are added on demand.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => undefined);
  };
  try {
    const redis = process.env.REDIS_URL
      ? { url: process.env.REDIS_URL, description: 'REDIS_URL' }
      : await keep(stops, startRedisServer({ dataDir: options.dataDir && join(options.dataDir, 'redis') }));
    const h2File = options.dataDir && join(options.dataDir, 'mongo.h2');
    const mongo = process.env.MONGODB_URL
      ? { url: process.env.MONGODB_URL, description: 'MONGODB_URL' }
      : {
          ...(await keep(stops, startMongoJavaServer(h2File ? { h2File } : {}))),
          description: `mongo-java-server (${h2File ? `data in ${h2File}` : 'in memory'})`,
        };
    const redisUrl = redis.url;
    const mongoUrl = mongo.url;
    const issuer = await LocalTokenIssuer.start({ audience: LOCAL_AUDIENCE, port: options.ports?.issuer ?? 0 });
    stops.push(() => issuer.stop());
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      REDIS_URL: redisUrl,
      MONGODB_URL: mongoUrl,
      AUTH0_ISSUER_BASE_URL: issuer.issuer,
      AUTH0_AUDIENCE: LOCAL_AUDIENCE,
      WEBHOOK_ALLOW_HTTP_LOOPBACK: 'true',
      HOST: '127.0.0.1',
      PORT: String(options.ports?.api ?? 0),
      SECRETS_ENCRYPTION_KEYS: options.secretsEncryptionKeys,
      ...options.env,
    };
    const api = await startNode(
      'apps/api/dist/main.js',
      { ...env, METRICS_PORT: String(options.ports?.apiMetrics ?? 0) },
      /"message":"api listening"/,
      options,
      API_NODE_ARGS,
    );
    stops.push(() => stopProcess(api.child));
    const { url: apiUrl, metricsUrl: apiMetricsUrl } = JSON.parse(api.match.input!) as { url: string; metricsUrl: string };
    let workerMetricsPort = options.ports?.workerMetrics ?? 0;
    const workerMetricsUrls: string[] = [];

    return {
      apiUrl,
      apiMetricsUrl,
      workerMetricsUrls,
      redisUrl,
      mongodbUrl: mongoUrl,
      describes: { redis: redis.description, mongodb: mongo.description },
      issuer,
      env,
      async startWorker(extraEnv = {}) {
        const metricsPort = workerMetricsPort ? String(workerMetricsPort++) : '0';
        const worker = await startNode(
          'apps/worker/dist/main.js',
          { ...env, METRICS_PORT: metricsPort, ...extraEnv },
          /"message":"worker started"/,
          options,
          WORKER_NODE_ARGS,
        );
        workerMetricsUrls.push((JSON.parse(worker.match.input!) as { metricsUrl: string }).metricsUrl);
        const stopWorker = () => stopProcess(worker.child);
        stops.push(stopWorker);
        return stopWorker;
      },
      async addProject(projectId, members) {
        const client = new MongoClient(mongoUrl);
        try {
          await projectsCollection(client.db(env.MONGODB_DB ?? 'novee_webhooks')).updateOne(
            { _id: projectId },
            { $addToSet: { members: { $each: members } } },
            { upsert: true },
          );
        } finally {
          await client.close();
        }
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export const ephemeralEncryptionKey = () => SecretCipher.generateKeyEntry('ephemeral');

async function keep<T extends { stop(): Promise<void> }>(stops: Array<() => Promise<void>>, starting: Promise<T>): Promise<T> {
  const started = await starting;
  stops.push(() => started.stop());
  return started;
}

/** Extra node flags for worker / API processes, e.g. WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile. */
const WORKER_NODE_ARGS = (process.env.WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
const API_NODE_ARGS = (process.env.API_NODE_ARGS ?? '').split(' ').filter(Boolean);

async function startNode(
  script: string,
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  { showLogs = false, onLogLine }: Pick<LocalStackOptions, 'showLogs' | 'onLogLine'>,
  nodeArgs: string[] = [],
): Promise<RunningProcess> {
  const running = await spawnUntilReady(process.execPath, [...nodeArgs, join(ROOT, script)], ready, {
    env,
    name: script,
    timeoutMs: 30_000,
  });
  if (onLogLine) {
    onLogLine(running.match.input!);
    for (const stream of [running.child.stdout, running.child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', onLogLine);
    }
  }
  if (showLogs) {
    running.child.stdout?.pipe(process.stdout);
    running.child.stderr?.pipe(process.stderr);
  } else if (!onLogLine) {
    running.child.stdout?.resume();
    running.child.stderr?.resume();
  }
  return running;
}
