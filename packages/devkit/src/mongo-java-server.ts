import { spawnUntilReady } from './child-process';
import { ensureLocalServicesBuilt, mongoLauncherClasses, mongoLauncherLib } from './local-services-setup';

export interface LocalMongo {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Start mongo-java-server (a MongoDB-wire-compatible server) on loopback, on a free port unless `port` is given.
 * In memory by default; pass h2File to keep data between runs (a stop and a start with the same h2File and
 * port is a database restart, as fault tests need).
 */
export async function startMongoJavaServer(options: { h2File?: string; port?: number } = {}): Promise<LocalMongo> {
  ensureLocalServicesBuilt();
  const args = [
    '-Xmx1g',
    // A stand-in on the same 2 cores as everything it serves: one GC thread and few JIT threads, so that its
    // collections do not take both cores from the API and the workers at once (the durable bench's tails
    // halved: POST /events -> receiver p99 22-32 ms -> 14-19 ms in a loop of runs).
    '-XX:+UseSerialGC',
    '-XX:CICompilerCount=2',
    '-cp',
    `${mongoLauncherClasses}:${mongoLauncherLib}/*`,
    'dev.novee.devkit.MongoJavaServerMain',
    '--port',
    String(options.port ?? 0),
  ];
  if (options.h2File) args.push('--h2', options.h2File);
  const server = await spawnUntilReady(process.env.JAVA_BIN ?? 'java', args, /^LISTENING (\S+)$/, {
    name: 'mongo-java-server',
    timeoutMs: 60_000,
  });
  const address = server.match[1]!;
  return { url: `mongodb://${address}`, port: Number(address.split(':').pop()), stop: server.stop };
}
