import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection (after answering, or without answering). */
  closed: boolean;
}

/** Parse the first HTTP/1.1 response in `text` (enough for the tests: Content-Length or close-delimited). */
export function parseResponse(text: string, closed: boolean): RawResponse | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
  const body = text.slice(end + 4);
  const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  if (length !== undefined && Buffer.byteLength(body) < length && !closed) return undefined;
  return { status: Number(statusLine!.split(' ')[1]), headers, body, closed };
}

/** A raw TCP connection to the API: for requests fetch() refuses to send, and for slow or broken clients. */
export function rawConnection(baseUrl: string): { socket: Socket; response: Promise<RawResponse>; closedAfterMs: Promise<number> } {
  const { hostname, port } = new URL(baseUrl);
  const socket = connect(Number(port), hostname);
  const opened = Date.now();
  let text = '';
  let settled = false;
  const closedAfterMs = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - opened)));
  const response = new Promise<RawResponse>((resolve, reject) => {
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      const parsed = parseResponse(text, false);
      if (parsed && !settled) {
        settled = true;
        resolve(parsed);
      }
    });
    socket.on('close', () => {
      if (settled) return;
      settled = true;
      const parsed = parseResponse(text, true);
      if (parsed) resolve(parsed);
      else reject(new Error(`connection closed without a response (${text.length} bytes received)`));
    });
    socket.on('error', () => undefined); // a reset shows up as 'close'
  });
  response.catch(() => undefined);
  return { socket, response, closedAfterMs };
}

/** Send `request` as is and wait for the answer. */
export async function rawRequest(baseUrl: string, request: string | Buffer): Promise<RawResponse> {
  const { socket, response } = rawConnection(baseUrl);
  socket.write(request);
  try {
    return await response;
  } finally {
    socket.destroy();
  }
}
