import TransportStream from 'winston-transport';

/** winston keeps the formatted line under this symbol (triple-beam's MESSAGE). */
const MESSAGE = Symbol.for('message');
/** Lines wait at most this long before they are written. */
const FLUSH_AFTER_MS = 10;
/** Or until this much is waiting. */
const FLUSH_AT_BYTES = 64 * 1024;

/**
 * Node's console writes to process.stdout (synchronous for a pipe, file or terminal); a console replaced by a
 * test runner has no _stdout, and there lines go through console.log so that the runner captures them (as
 * winston's Console transport does).
 */
function consoleOutput(text: string): void {
  const stdout = (console as { _stdout?: NodeJS.WritableStream })._stdout;
  if (stdout) stdout.write(text);
  else console.log(text.trimEnd());
}

/** Every transport with lines waiting, so that the process writes them when it exits. */
const waiting = new Set<CoalescedStdout>();
let exitHookInstalled = false;

/**
 * stdout, one JSON line per entry, with the lines of a few milliseconds written together: under load the
 * worker and the API log a line per delivery and per request, and one system call per line was a measurable
 * share of their CPU (see README, Performance). Whatever is waiting is written when the process exits; only a
 * process killed outright (SIGKILL) can lose its last 10 ms of lines; the delivery records are not kept here.
 */
export class CoalescedStdout extends TransportStream {
  private pending: string[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly output: (text: string) => void = consoleOutput,
    private readonly flushAfterMs = FLUSH_AFTER_MS,
  ) {
    super();
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => waiting.forEach((transport) => transport.flush()));
    }
  }

  override log(info: Record<string | symbol, unknown>, next: () => void): void {
    const line = `${String(info[MESSAGE])}\n`;
    this.pending.push(line);
    this.pendingBytes += line.length;
    waiting.add(this);
    if (this.pendingBytes >= FLUSH_AT_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.flushAfterMs).unref();
    next();
  }

  /** Write what is waiting, in one write. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    waiting.delete(this);
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    this.output(text);
  }
}
