import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The local services' one set-up step: Maven fetches mongo-java-server and the embedded-redis binaries from
 * Maven Central (`npm run setup:services`). Tests, `npm run dev` and the bench run it themselves on first use.
 */
const setupDir = join(__dirname, '..', 'mongo-java-server');
const targetDir = join(setupDir, 'target');
export const mongoLauncherClasses = join(targetDir, 'classes');
export const mongoLauncherLib = join(targetDir, 'lib');
export const embeddedRedisDir = join(targetDir, 'redis');

function isBuilt(): boolean {
  return (
    existsSync(join(mongoLauncherClasses, 'dev', 'novee', 'devkit', 'MongoJavaServerMain.class')) &&
    existsSync(mongoLauncherLib) &&
    existsSync(embeddedRedisDir) &&
    readdirSync(embeddedRedisDir).some((file) => file.startsWith('redis-server-'))
  );
}

/** Run the Maven step unless everything it produces is already there. */
export function ensureLocalServicesBuilt(): void {
  if (isBuilt()) return;
  execFileSync('mvn', ['-q', '-f', join(setupDir, 'pom.xml'), 'package'], { stdio: 'inherit' });
}
