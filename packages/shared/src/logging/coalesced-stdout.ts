import TransportStream from 'winston-transport';

/** winston keeps the formatted line under this symbol (triple-beam's MESSAGE). */
const MESSAGE = Symbol.for('message');
/** Lines wait at most this long before they are written. */
const FLUSH_AFTER_MS = 10;
/** Or until this much is waiting. */
const FLUSH_AT_BYTES = 64 * 1024;

let pending: string[] = [];
let pendingBytes = 0;
let timer: NodeJS.Timeout | undefined;
let exitHookInstalled = false;

/** Write what is waiting, in one write (stdout to a pipe, file or terminal is synchronous in Node, so also at exit). */
function flush(): void {
  if (timer) clearTimeout(timer);
  timer = undefined;
  if (pending.length === 0) return;
  const text = pending.join('');
  pending = [];
  pendingBytes = 0;
  process.stdout.write(text);
}

/**
 * stdout, one JSON line per entry, with the lines of a few milliseconds written together: under load the
 * worker and the API log a line per delivery and per request, and one system call per line was a measurable
 * share of their CPU (see README, Performance). Whatever is waiting is written when the process exits; only a
 * process killed outright (SIGKILL) can lose its last 10 ms of lines; the delivery records are not kept here.
 */
export class CoalescedStdout extends TransportStream {
  constructor() {
    super();
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', flush);
    }
  }

  override log(info: Record<string | symbol, unknown>, next: () => void): void {
    const line = `${String(info[MESSAGE])}\n`;
    pending.push(line);
    pendingBytes += line.length;
    if (pendingBytes >= FLUSH_AT_BYTES) flush();
    else timer ??= setTimeout(flush, FLUSH_AFTER_MS).unref();
    next();
  }
}
