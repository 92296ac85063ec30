import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

/** One HTTP response as it came off a raw socket. */
export interface RawResponse {
  status: number;
  /** Header names in lower case; a repeated header keeps its last value. */
  headers: Record<string, string>;
  /** The body as sent (Content-Length framed, or chunked and unframed here). */
  text: string;
}

/** Opens a TCP connection to a loopback port, resolved once connected. */
export async function rawConnection(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

function parseHead(head: string): Omit<RawResponse, 'text'> {
  const [statusLine, ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status, headers };
}

function unchunk(body: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', offset);
    if (lineEnd === -1) return undefined;
    const size = parseInt(body.subarray(offset, lineEnd).toString('latin1'), 16);
    if (size === 0) return Buffer.concat(parts);
    if (body.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}

/**
 * Reads the first response the server sends on `socket`, whole (framed by
 * Content-Length or chunked). Rejects when the socket closes first, or after
 * `timeoutMs` without a complete response.
 */
export function readResponse(socket: Socket, timeoutMs: number): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const finish = (outcome: () => void) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      outcome();
    };
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const headEnd = received.indexOf('\r\n\r\n');
      if (headEnd === -1) return;
      const head = parseHead(received.subarray(0, headEnd).toString('latin1'));
      const body = received.subarray(headEnd + 4);
      let text: string | undefined;
      if (head.headers['transfer-encoding'] === 'chunked') {
        text = unchunk(body)?.toString('utf8');
      } else {
        const length = Number(head.headers['content-length'] ?? 0);
        if (body.length >= length) text = body.subarray(0, length).toString('utf8');
      }
      if (text !== undefined) finish(() => resolve({ ...head, text }));
    };
    const onClose = () =>
      finish(() =>
        reject(
          new Error(
            `the server closed the connection before a complete response (got ${JSON.stringify(received.toString('latin1').slice(0, 200))})`,
          ),
        ),
      );
    const onError = (error: Error) => finish(() => reject(error));
    const timer = setTimeout(
      () => finish(() => reject(new Error(`no complete response within ${timeoutMs} ms`))),
      timeoutMs,
    );
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', onError);
  });
}

/**
 * Resolves when the server closes `socket` (an error such as ECONNRESET
 * counts as closed); rejects after `timeoutMs` with the socket still open.
 */
export async function closedByServer(socket: Socket, timeoutMs: number): Promise<void> {
  if (socket.destroyed || socket.readableEnded) return;
  socket.on('error', () => {});
  socket.resume();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off('close', onClose);
      socket.off('end', onClose);
      reject(new Error(`the server kept the connection open for ${timeoutMs} ms`));
    }, timeoutMs);
    const onClose = () => {
      clearTimeout(timer);
      resolve();
    };
    socket.once('end', onClose);
    socket.once('close', onClose);
  });
}
