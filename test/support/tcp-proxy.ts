import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';

/**
 * What the proxy does with traffic (Toxiproxy's vocabulary in brackets):
 * - `forward`: passes bytes both ways (no toxic);
 * - `refuse`: the listener is closed and every socket reset, so connects get
 *   ECONNREFUSED and open connections see a reset (proxy disabled);
 * - `blackhole`: accepts connections but never forwards nor answers, and
 *   stops forwarding on open ones: requests hang until the mode changes
 *   (`timeout` with timeout = 0). Bytes are held, not dropped, so a healed
 *   hole delivers them late, as TCP does after a partition.
 */
export type ProxyMode = 'forward' | 'refuse' | 'blackhole';

export interface ProxyTarget {
  host: string;
  port: number;
}

interface Pair {
  client: Socket;
  upstream?: Socket;
  /** Bytes read while the hole was open, written once it heals, in order. */
  heldUp: Buffer[];
  heldDown: Buffer[];
}

/** A TCP proxy on 127.0.0.1 with a fault mode switchable while connections are open. */
export class TcpProxy {
  readonly host = '127.0.0.1';
  /** Connections the listener has accepted, in any mode. */
  accepted = 0;
  /** Data chunks passed (or held) from clients toward the target: about one per request. */
  chunksUp = 0;
  bytesUp = 0;
  bytesDown = 0;
  private currentMode: ProxyMode = 'forward';
  private readonly pairs = new Set<Pair>();
  private server: Server;
  private closed = false;

  private constructor(
    private readonly target: ProxyTarget,
    public readonly port: number,
    server: Server,
  ) {
    this.server = server;
  }

  /** Starts a proxy to `target` on an ephemeral loopback port, in `forward` mode. */
  static async start(target: ProxyTarget): Promise<TcpProxy> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const proxy = new TcpProxy(target, port, server);
    proxy.attach(server);
    return proxy;
  }

  get mode(): ProxyMode {
    return this.currentMode;
  }

  /** Connections open through the proxy right now. */
  get active(): number {
    return this.pairs.size;
  }

  /** `host:port` of the proxy, as it appears in a URL. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** A copy of `url` pointing at the proxy instead of its own host and port. */
  urlFor(url: string): string {
    const proxied = new URL(url);
    proxied.hostname = this.host;
    proxied.port = String(this.port);
    return proxied.toString();
  }

  /** Switches the fault mode; resolves once new connections see it. */
  async setMode(mode: ProxyMode): Promise<void> {
    if (this.closed) throw new Error('the proxy is closed');
    const previous = this.currentMode;
    if (mode === previous) return;
    this.currentMode = mode;
    if (mode === 'refuse') {
      // Closing the handle stops accepting at once; the callback only fires
      // once the connections are gone, which the resets below ensure.
      const closing = once(this.server, 'close');
      this.server.close();
      for (const pair of [...this.pairs]) this.reset(pair);
      await closing;
      return;
    }
    if (previous === 'refuse') await this.relisten();
    if (mode === 'blackhole') {
      for (const pair of this.pairs) {
        pair.client.pause();
        pair.upstream?.pause();
      }
      return;
    }
    // forward: deliver what the hole held, then flow again.
    for (const pair of [...this.pairs]) {
      if (!pair.upstream) {
        this.connectUpstream(pair);
        continue;
      }
      this.flush(pair);
      pair.client.resume();
      pair.upstream.resume();
    }
  }

  /** Resets every connection and stops listening. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const pair of [...this.pairs]) this.reset(pair);
    if (this.server.listening) {
      const closing = once(this.server, 'close');
      this.server.close();
      await closing;
    }
  }

  private attach(server: Server): void {
    server.on('connection', (client) => this.accept(client));
  }

  private async relisten(): Promise<void> {
    // A new server on the same port: a closed net.Server may be listened again,
    // but a fresh one keeps no state from the old handle.
    this.server = createServer();
    this.attach(this.server);
    this.server.listen(this.port, this.host);
    await once(this.server, 'listening');
  }

  private accept(client: Socket): void {
    this.accepted += 1;
    client.setNoDelay(true);
    if (this.currentMode === 'refuse' || this.closed) {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, heldUp: [], heldDown: [] };
    this.pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      this.chunksUp += 1;
      this.bytesUp += chunk.length;
      if (this.currentMode !== 'forward' || !pair.upstream?.writable) {
        pair.heldUp.push(chunk);
        return;
      }
      if (!pair.upstream.write(chunk)) client.pause();
    });
    client.on('error', () => this.drop(pair));
    client.on('close', () => this.drop(pair));
    client.on('end', () => pair.upstream?.end());
    if (this.currentMode === 'blackhole') {
      // Accepted, never answered: the client's first bytes wait in the kernel.
      client.pause();
      return;
    }
    this.connectUpstream(pair);
  }

  private connectUpstream(pair: Pair): void {
    const { client } = pair;
    const upstream = connect({ host: this.target.host, port: this.target.port });
    pair.upstream = upstream;
    upstream.setNoDelay(true);
    client.pause();
    upstream.on('connect', () => {
      if (this.currentMode !== 'forward') return;
      this.flush(pair);
      client.resume();
    });
    upstream.on('data', (chunk: Buffer) => {
      this.bytesDown += chunk.length;
      if (this.currentMode !== 'forward') {
        pair.heldDown.push(chunk);
        return;
      }
      if (!client.write(chunk)) upstream.pause();
    });
    upstream.on('drain', () => {
      if (this.currentMode === 'forward') client.resume();
    });
    client.on('drain', () => {
      if (this.currentMode === 'forward') upstream.resume();
    });
    upstream.on('end', () => client.end());
    // The target refused or reset: the client sees a reset too.
    upstream.on('error', () => this.reset(pair));
    upstream.on('close', () => this.drop(pair));
  }

  private flush(pair: Pair): void {
    if (pair.upstream?.writable) {
      for (const chunk of pair.heldUp.splice(0)) pair.upstream.write(chunk);
    }
    if (pair.client.writable) {
      for (const chunk of pair.heldDown.splice(0)) pair.client.write(chunk);
    }
  }

  private reset(pair: Pair): void {
    this.pairs.delete(pair);
    if (!pair.client.destroyed) pair.client.resetAndDestroy();
    if (pair.upstream && !pair.upstream.destroyed) pair.upstream.resetAndDestroy();
  }

  private drop(pair: Pair): void {
    this.pairs.delete(pair);
    pair.client.destroy();
    pair.upstream?.destroy();
  }
}

/** Starts a proxy to `target` on an ephemeral loopback port, in `forward` mode. */
export function startTcpProxy(target: ProxyTarget): Promise<TcpProxy> {
  return TcpProxy.start(target);
}
