import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnUntilReady } from './child-process';

export interface LocalMongo {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const launcherDir = join(__dirname, '..', 'mongo-java-server');
const classesDir = join(launcherDir, 'target', 'classes');
const libDir = join(launcherDir, 'target', 'lib');

/** Fetch mongo-java-server from Maven Central and compile the launcher, once. */
export function buildMongoJavaServer(): void {
  if (existsSync(join(classesDir, 'dev', 'novee', 'devkit', 'MongoJavaServerMain.class')) && existsSync(libDir)) return;
  execFileSync('mvn', ['-q', '-f', join(launcherDir, 'pom.xml'), 'package'], { stdio: 'inherit' });
}

/**
 * Start mongo-java-server (a MongoDB-wire-compatible server) on loopback, on a free port unless `port` is given.
 * In memory by default; pass h2File to keep data between runs (a stop and a start with the same h2File and
 * port is a database restart, as fault tests need).
 */
export async function startMongoJavaServer(options: { h2File?: string; port?: number } = {}): Promise<LocalMongo> {
  buildMongoJavaServer();
  const args = ['-Xmx1g', '-cp', `${classesDir}:${libDir}/*`, 'dev.novee.devkit.MongoJavaServerMain', '--port', String(options.port ?? 0)];
  if (options.h2File) args.push('--h2', options.h2File);
  const server = await spawnUntilReady(process.env.JAVA_BIN ?? 'java', args, /^LISTENING (\S+)$/, {
    name: 'mongo-java-server',
    timeoutMs: 60_000,
  });
  const address = server.match[1]!;
  return { url: `mongodb://${address}`, port: Number(address.split(':').pop()), stop: server.stop };
}
