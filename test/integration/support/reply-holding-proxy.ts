import { connect, createServer, type Server, type Socket } from 'node:net';

interface Pipe {
  client: Socket;
  server: Socket;
  recent: string;
  held: Buffer[] | null;
}

/**
 * A TCP proxy in front of Redis that can withhold Redis's answers on one connection: armed with a marker,
 * it forwards the command that carries the marker (so Redis runs it) and keeps that connection's replies
 * until released (or closes it). This is "the job was added, but the API did not hear so", made deterministic.
 */
export class ReplyHoldingProxy {
  private readonly pipes = new Set<Pipe>();
  private marker: string | null = null;
  private cut = false;

  private constructor(
    private readonly listener: Server,
    readonly url: string,
  ) {}

  static async start(targetUrl: string): Promise<ReplyHoldingProxy> {
    const target = new URL(targetUrl);
    // `proxy` is declared below (it needs the port); no connection is handled before this function returns.
    const listener = createServer((client) => proxy.pipe(client, Number(target.port), target.hostname));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const { port } = listener.address() as { port: number };
    const proxy = new ReplyHoldingProxy(listener, `redis://127.0.0.1:${port}`);
    return proxy;
  }

  /** The next connection that sends `marker` gets no replies until release(). */
  holdRepliesAfter(marker: string): void {
    this.marker = marker;
    this.cut = false;
  }

  /** The next connection that sends `marker` is closed right after the command reached Redis, before its reply. */
  cutAfter(marker: string): void {
    this.marker = marker;
    this.cut = true;
  }

  /** Whether a connection is being held (its marked command reached Redis). */
  get holding(): boolean {
    return [...this.pipes].some((pipe) => pipe.held !== null);
  }

  release(): void {
    this.marker = null;
    for (const pipe of this.pipes) {
      if (!pipe.held) continue;
      for (const chunk of pipe.held) pipe.client.write(chunk);
      pipe.held = null;
    }
  }

  async stop(): Promise<void> {
    this.release();
    for (const pipe of this.pipes) {
      pipe.client.destroy();
      pipe.server.destroy();
    }
    await new Promise<void>((resolve) => this.listener.close(() => resolve()));
  }

  private pipe(client: Socket, port: number, host: string): void {
    const pipe: Pipe = { client, server: connect(port, host), recent: '', held: null };
    this.pipes.add(pipe);
    client.on('data', (chunk) => {
      pipe.server.write(chunk);
      pipe.recent = (pipe.recent + chunk.toString('latin1')).slice(-8192);
      if (this.marker && pipe.recent.includes(this.marker)) {
        this.marker = null;
        pipe.held = [];
        if (this.cut) pipe.server.end(() => client.destroy());
      }
    });
    pipe.server.on('data', (chunk) => (pipe.held ? pipe.held.push(chunk) : client.write(chunk)));
    const close = () => {
      this.pipes.delete(pipe);
      client.destroy();
      pipe.server.destroy();
    };
    client.on('close', close).on('error', close);
    pipe.server.on('close', close).on('error', close);
  }
}
