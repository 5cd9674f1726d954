import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

/** A free TCP port on loopback (for servers such as redis-server that cannot bind port 0 and report it). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RunningProcess {
  child: ChildProcess;
  /** The first output line that matched the readiness pattern. */
  match: RegExpMatchArray;
  stop: () => Promise<void>;
}

const running = new Set<ChildProcess>();
// Children must not outlive us, even when a test run is interrupted.
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

/** Spawn a process and resolve once a line of its stdout/stderr matches `ready`. */
export function spawnUntilReady(
  command: string,
  args: string[],
  ready: RegExp,
  options: SpawnOptions & { timeoutMs?: number; name?: string } = {},
): Promise<RunningProcess> {
  const { timeoutMs = 60_000, name = command, ...spawnOptions } = options;
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...spawnOptions });
  running.add(child);
  const recent: string[] = [];

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not become ready in ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\n${recent.join('\n')}`));
    };
    child.once('error', (error: NodeJS.ErrnoException) =>
      fail(error.code === 'ENOENT' ? new Error(`${command} is not installed (see README: Prerequisites)`) : error),
    );
    child.once('exit', (code) => fail(new Error(`${name} exited with code ${code} before it was ready`)));
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        recent.push(line);
        if (recent.length > 30) recent.shift();
        const match = line.match(ready);
        if (!match) return;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({ child, match, stop: () => stopProcess(child) });
      });
    }
  });
}

/** SIGKILL (a crash, for fault tests): resolves once the process is gone. */
export function killProcess(child: ChildProcess): Promise<void> {
  running.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** SIGTERM, then SIGKILL if it has not exited within 5 s. */
export function stopProcess(child: ChildProcess): Promise<void> {
  running.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.stdin?.end();
    child.kill('SIGTERM');
  });
}
