import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { MongoClient, type Db } from 'mongodb';
import {
  LocalTokenIssuer,
  findFreePort,
  killProcess,
  spawnUntilReady,
  startMongoJavaServer,
  startRedisServer,
  type LocalMongo,
  type LocalRedis,
} from '@novee/devkit';
import { DELIVERY_QUEUE, SecretCipher, createRedisConnection, projectsCollection, type DeliveryJobData } from '@novee/shared';

const ROOT = join(__dirname, '../../..');
const AUDIENCE = 'https://api.novee.faults';
/** The token subject of the pipeline that posts events (a member of every project, as machine clients are). */
export const PIPELINE_SUB = 'pipeline@clients';
const MEMBER_SUB = 'auth0|member';

export interface FaultStackOptions {
  /** Redis' AOF fsync policy (the AOF is always on, so Redis can be killed and restarted on its data). */
  appendfsync?: 'always' | 'everysec';
  /** Keep MongoDB's data in an H2 file, so it survives a stop and start. */
  mongoOnDisk?: boolean;
  /** Extra environment for the API and workers; everything else is the product's default. */
  env?: Record<string, string>;
}

/** A service process (the API or a worker) started from its built main.js. */
export interface ServiceProcess {
  child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/**
 * The product as ops run it, every piece a real process on loopback that a test can kill and start again:
 * redis-server (AOF on), mongo-java-server, the API and worker processes (apps/{api,worker}/dist/main.js,
 * configured by environment, with the product's defaults), and a token issuer.
 */
export class FaultStack {
  /** The test's own view of MongoDB (delivery records) and of the queue (jobs still pending). */
  readonly db: Db;
  readonly queue: Queue<DeliveryJobData>;
  private readonly services = new Set<ChildProcess>();
  private logCount = 0;

  private constructor(
    private readonly dir: string,
    private redis: LocalRedis,
    private mongo: LocalMongo,
    private readonly mongoClient: MongoClient,
    private readonly queueRedis: ReturnType<typeof createRedisConnection>,
    readonly issuer: LocalTokenIssuer,
    readonly env: NodeJS.ProcessEnv,
    readonly apiUrl: string,
    private readonly options: FaultStackOptions,
  ) {
    this.db = mongoClient.db(env.MONGODB_DB);
    this.queue = new Queue<DeliveryJobData>(DELIVERY_QUEUE, { connection: queueRedis, prefix: env.QUEUE_PREFIX });
  }

  static async start(options: FaultStackOptions = {}): Promise<FaultStack> {
    const dir = await mkdtemp(join(tmpdir(), 'novee-faults-'));
    const redis = await startRedisServer({ dataDir: dir, appendfsync: options.appendfsync });
    const mongo = await startMongoJavaServer(options.mongoOnDisk ? { h2File: join(dir, 'mongo.h2') } : {});
    const issuer = await LocalTokenIssuer.start({ audience: AUDIENCE });
    const apiPort = await findFreePort();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      REDIS_URL: redis.url,
      MONGODB_URL: mongo.url,
      MONGODB_DB: 'faults',
      QUEUE_PREFIX: 'faults',
      HOST: '127.0.0.1',
      PORT: String(apiPort),
      METRICS_PORT: '0',
      AUTH0_ISSUER_BASE_URL: issuer.issuer,
      AUTH0_AUDIENCE: AUDIENCE,
      WEBHOOK_ALLOW_HTTP_LOOPBACK: 'true',
      SECRETS_ENCRYPTION_KEYS: SecretCipher.generateKeyEntry('faults'),
      ...options.env,
    };
    const mongoClient = new MongoClient(mongo.url, { serverSelectionTimeoutMS: 5_000 });
    const queueRedis = createRedisConnection(redis.url, 'worker');
    return new FaultStack(dir, redis, mongo, mongoClient, queueRedis, issuer, env, `http://127.0.0.1:${apiPort}`, options);
  }

  startApi(): Promise<ServiceProcess> {
    return this.startService('api', /"message":"api listening"/, {});
  }

  startWorker(extraEnv: Record<string, string> = {}): Promise<ServiceProcess> {
    return this.startService('worker', /"message":"worker started"/, extraEnv);
  }

  /** SIGKILL (a crash) or SIGTERM (a deploy); resolves when the process has exited. */
  async signal(service: ServiceProcess, signal: 'SIGKILL' | 'SIGTERM'): Promise<number | null> {
    service.child.kill(signal);
    return service.exited;
  }

  /** kill -9 redis-server. */
  killRedis(): Promise<void> {
    return this.redis.kill();
  }

  /** Start redis-server again on the same port and data directory (it replays the AOF). */
  async restartRedis(): Promise<void> {
    this.redis = await startRedisServer({ dataDir: this.dir, appendfsync: this.options.appendfsync, port: this.redis.port });
  }

  stopMongo(): Promise<void> {
    return this.mongo.stop();
  }

  /** Start mongo-java-server again on the same port (and, with mongoOnDisk, the same data). */
  async restartMongo(): Promise<void> {
    this.mongo = await startMongoJavaServer({
      port: this.mongo.port,
      ...(this.options.mongoOnDisk && { h2File: join(this.dir, 'mongo.h2') }),
    });
  }

  /**
   * `count` projects (fault-0, fault-1, ...), each with its own webhook on the receiver at /p/<projectId>, so
   * that deliveries spread over that many endpoints. Registered through the API, as customers do.
   */
  async registerProjects(count: number, receiverUrl: (path: string) => string): Promise<string[]> {
    const token = await this.issuer.issueToken({ sub: MEMBER_SUB });
    const ids = Array.from({ length: count }, (_, i) => `fault-${i}`);
    for (const projectId of ids) {
      await projectsCollection(this.db).insertOne({ _id: projectId, members: [MEMBER_SUB, PIPELINE_SUB] });
      const res = await fetch(`${this.apiUrl}/webhooks/register`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ projectId, url: receiverUrl(`/p/${projectId}`), types: ['FALL_DETECTION', 'VITAL_THRESHOLD'] }),
      });
      if (res.status !== 201) throw new Error(`register ${projectId}: ${res.status} ${await res.text()}`);
    }
    return ids;
  }

  /** A token for the pipeline that posts events. */
  pipelineToken(): Promise<string> {
    return this.issuer.issueToken({ sub: PIPELINE_SUB, scope: 'events:write' });
  }

  async stop(): Promise<void> {
    for (const child of this.services) await killProcess(child);
    await this.queue.close().catch(() => undefined);
    this.queueRedis.disconnect();
    await this.mongoClient.close().catch(() => undefined);
    await this.issuer.stop();
    await this.mongo.stop();
    await this.redis.stop();
    if (process.env.FAULTS_KEEP_DIR) process.stdout.write(`fault stack files (logs, AOF, H2) kept in ${this.dir}\n`);
    else await rm(this.dir, { recursive: true, force: true });
  }

  private async startService(kind: 'api' | 'worker', ready: RegExp, extraEnv: Record<string, string>): Promise<ServiceProcess> {
    const running = await spawnUntilReady(process.execPath, [join(ROOT, `apps/${kind}/dist/main.js`)], ready, {
      env: { ...this.env, ...extraEnv },
      name: kind,
      timeoutMs: 30_000,
    });
    const { child } = running;
    this.services.add(child);
    // Each process's log goes to a file in the stack's directory (FAULTS_KEEP_DIR=1 keeps it).
    const log = createWriteStream(join(this.dir, `${kind}-${++this.logCount}.log`));
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    const exited = new Promise<number | null>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
      child.once('exit', (code) => {
        this.services.delete(child);
        resolve(code);
      });
    });
    return { child, exited };
  }
}
