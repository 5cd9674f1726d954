import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  /** The body exactly as it arrived, for signature checks. */
  rawBody: string;
  receivedAt: number;
}

export interface ReceiverReply {
  status: number;
  /** Answer only after this many ms (to play a slow or hanging receiver). */
  delayMs?: number;
  /** Extra response headers (e.g. Retry-After). */
  headers?: Record<string, string>;
}

type Waiter = { count: number; path?: string; resolve: (hooks: ReceivedWebhook[]) => void };

/** A real HTTP webhook receiver on loopback that records every request and answers as told. */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private reply: (hook: ReceivedWebhook) => ReceiverReply = () => ({ status: 200 });
  private waiters: Waiter[] = [];
  private readonly open = new Map<string, number>();
  /** The most requests each path has had open at once. */
  readonly maxOpen = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
  ) {}

  static async start(options: { port?: number } = {}): Promise<WebhookReceiver> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const hook = {
          path: req.url ?? '/',
          headers: req.headers,
          rawBody: Buffer.concat(chunks).toString('utf8'),
          receivedAt: Date.now(),
        };
        const { status, delayMs = 0, headers = {} } = self.record(hook);
        const timer = setTimeout(() => res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end('ok'), delayMs);
        res.once('close', () => {
          clearTimeout(timer);
          self.open.set(hook.path, (self.open.get(hook.path) ?? 1) - 1);
        });
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
    // Requests reach `self` only once the server listens, which is after this line.
    const self = new WebhookReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return self;
  }

  url(path = '/webhook'): string {
    return this.baseUrl + path;
  }

  /** Decide how to answer each request (default: 200 at once). */
  respondWith(reply: (hook: ReceivedWebhook) => ReceiverReply): void {
    this.reply = reply;
  }

  receivedOn(path: string): ReceivedWebhook[] {
    return this.received.filter((hook) => hook.path === path);
  }

  /** Resolve once `count` requests (on `path`, if given) have arrived; reject after timeoutMs. */
  waitFor(count: number, options: { path?: string; timeoutMs?: number } = {}): Promise<ReceivedWebhook[]> {
    const { path, timeoutMs = 10_000 } = options;
    const matching = () => (path ? this.receivedOn(path) : this.received);
    if (matching().length >= count) return Promise.resolve(matching());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`receiver got ${matching().length} of ${count} webhooks within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = { count, path, resolve: (hooks) => (clearTimeout(timer), resolve(hooks)) };
      this.waiters.push(waiter);
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private record(hook: ReceivedWebhook): ReceiverReply {
    this.received.push(hook);
    const open = (this.open.get(hook.path) ?? 0) + 1;
    this.open.set(hook.path, open);
    this.maxOpen.set(hook.path, Math.max(open, this.maxOpen.get(hook.path) ?? 0));
    for (const waiter of [...this.waiters]) {
      const matching = waiter.path ? this.receivedOn(waiter.path) : this.received;
      if (matching.length >= waiter.count) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(matching);
      }
    }
    return this.reply(hook);
  }
}
