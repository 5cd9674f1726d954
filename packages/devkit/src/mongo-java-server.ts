import { spawnUntilReady } from './child-process';
import { ensureLocalServicesBuilt, mongoLauncherClasses, mongoLauncherLib } from './local-services-setup';

export interface LocalMongo {
  url: string;
  stop: () => Promise<void>;
}

/**
 * Start mongo-java-server (a MongoDB-wire-compatible server) on a free loopback port.
 * In memory by default; pass h2File to keep data between runs.
 */
export async function startMongoJavaServer(options: { h2File?: string } = {}): Promise<LocalMongo> {
  ensureLocalServicesBuilt();
  const args = ['-Xmx1g', '-cp', `${mongoLauncherClasses}:${mongoLauncherLib}/*`, 'dev.novee.devkit.MongoJavaServerMain', '--port', '0'];
  if (options.h2File) args.push('--h2', options.h2File);
  const server = await spawnUntilReady(process.env.JAVA_BIN ?? 'java', args, /^LISTENING (\S+)$/, {
    name: 'mongo-java-server',
    timeoutMs: 60_000,
  });
  return { url: `mongodb://${server.match[1]}`, stop: server.stop };
}
