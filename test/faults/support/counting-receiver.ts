import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One webhook the receiver answered 2xx to. */
export interface Delivery {
  eventId: string;
  /** The event's data.userUUID: the fault tests give every event they send its own, to count by client key. */
  userUUID: string;
  path: string;
  /** When the 2xx answer was sent (ms). */
  at: number;
}

/**
 * A webhook receiver on a fixed loopback port that counts what it delivered: a webhook counts once the 2xx
 * answer is written, so a request cut off by a crashed worker does not. It can go down (connections refused)
 * and come back on the same port, as a customer's receiver does in an outage.
 */
export class CountingReceiver {
  readonly deliveries: Delivery[] = [];
  /** First 2xx per X-Event-Id. */
  private readonly first = new Map<string, number>();
  private server: Server | undefined;

  private constructor(
    readonly port: number,
    private readonly delayMs: number,
  ) {}

  /** delayMs: how long each answer takes (keeps deliveries in flight when a worker is killed). */
  static async start(options: { delayMs?: number } = {}): Promise<CountingReceiver> {
    const receiver = new CountingReceiver(0, options.delayMs ?? 0);
    await receiver.up();
    return receiver;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** When `eventId` was first delivered, or undefined. */
  firstDelivery(eventId: string): number | undefined {
    return this.first.get(eventId);
  }

  /** Seconds from `since` to the first delivery after it, or null if none yet. */
  secondsToFirstDeliveryAfter(since: number): number | null {
    const next = this.deliveries.find((delivery) => delivery.at > since);
    return next ? (next.at - since) / 1000 : null;
  }

  deliveredCount(eventIds: Iterable<string>): number {
    let count = 0;
    for (const id of eventIds) if (this.first.has(id)) count++;
    return count;
  }

  /** Listen (again, on the same port after down()). */
  async up(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const timer = setTimeout(() => res.writeHead(200).end('ok'), this.delayMs);
        res.once('close', () => clearTimeout(timer));
        res.once('finish', () => this.count(String(req.headers['x-event-id']), Buffer.concat(chunks).toString('utf8'), req.url ?? '/'));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    (this as { port: number }).port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stop listening and cut every open connection: senders get refused or reset. */
  down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  }

  private count(eventId: string, body: string, path: string): void {
    const at = Date.now();
    let userUUID = '';
    try {
      const parsed = JSON.parse(body) as { userUUID?: unknown };
      if (typeof parsed.userUUID === 'string') userUUID = parsed.userUUID;
    } catch {
      // not an event body: counted by its X-Event-Id only
    }
    this.deliveries.push({ eventId, userUUID, path, at });
    if (!this.first.has(eventId)) this.first.set(eventId, at);
  }
}
