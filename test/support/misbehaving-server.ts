import { once } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { performance } from 'node:perf_hooks';

/** What the server does with one request. */
export type Misbehaviour =
  | { status: number; headers?: Record<string, string>; body?: string; delayMs?: number }
  /** Destroys the connection with a TCP RST before answering. */
  | 'reset'
  /** Never answers (until the server closes). */
  | 'hang';

/** A request as the server received it. */
export interface ReceivedRequest {
  /** performance.now() at arrival. */
  at: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A real HTTP server on loopback that misbehaves on command (the fault F11 of
 * the reliability notes): each request takes the next scripted behaviour, or
 * the default one. It records every request that reached it.
 */
export class MisbehavingServer {
  readonly requests: ReceivedRequest[] = [];
  /** TCP connections accepted so far (keep-alive reuses them). */
  connections = 0;
  private readonly script: Misbehaviour[] = [];
  private fallback: Misbehaviour = { status: 200, body: '{}' };
  private readonly hanging = new Set<ServerResponse>();

  /** `http://127.0.0.1:<port>`, once started. */
  origin = '';
  private readonly server: Server;

  private constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => this.handle(request, response, Buffer.concat(chunks).toString()));
    });
    this.server.on('connection', () => this.connections++);
    this.server.keepAliveTimeout = 5_000;
  }

  static async start(): Promise<MisbehavingServer> {
    const instance = new MisbehavingServer();
    instance.server.listen(0, '127.0.0.1');
    await once(instance.server, 'listening');
    const { port } = instance.server.address() as { port: number };
    instance.origin = `http://127.0.0.1:${port}`;
    return instance;
  }

  /** Every later request not scripted by `next()` behaves so. */
  always(behaviour: Misbehaviour): this {
    this.fallback = behaviour;
    return this;
  }

  /** The next requests behave so, one each, in order. */
  next(...behaviours: Misbehaviour[]): this {
    this.script.push(...behaviours);
    return this;
  }

  /** Forgets the recorded requests and the script (the default stays). */
  clear(): void {
    this.requests.length = 0;
    this.script.length = 0;
  }

  async close(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  private handle(
    request: import('node:http').IncomingMessage,
    response: ServerResponse,
    body: string,
  ): void {
    this.requests.push({
      at: performance.now(),
      method: request.method ?? 'GET',
      path: request.url ?? '/',
      headers: request.headers,
      body,
    });
    const behaviour = this.script.shift() ?? this.fallback;
    if (behaviour === 'reset') {
      request.socket.resetAndDestroy();
      return;
    }
    if (behaviour === 'hang') {
      this.hanging.add(response);
      response.on('close', () => this.hanging.delete(response));
      return;
    }
    const answer = () => {
      if (response.destroyed) return;
      response.writeHead(behaviour.status, {
        'content-type': 'application/json',
        ...behaviour.headers,
      });
      response.end(behaviour.body ?? '{}');
    };
    if (behaviour.delayMs) {
      this.hanging.add(response);
      const timer = setTimeout(answer, behaviour.delayMs);
      response.on('close', () => {
        clearTimeout(timer);
        this.hanging.delete(response);
      });
    } else {
      answer();
    }
  }
}
