import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';

/** Limits of the Node HTTP server, so slow or idle clients can't hold connections forever. */
export interface ServerLimitsOptions {
  /**
   * Time a client has to send a request's complete headers, in ms; past it
   * Node answers 408 and closes the connection (slowloris). Checked about
   * every second.
   * @default 15000
   */
  headersTimeoutMs?: number;
  /**
   * Time a client has to send the whole request, body included, in ms; past
   * it Node answers 408. Not a limit on the handler's own time.
   * @default 30000
   */
  requestTimeoutMs?: number;
  /**
   * How long an idle keep-alive connection stays open, in ms. Behind a load
   * balancer that reuses connections, make it longer than the balancer's
   * idle timeout (AWS ALB: 60 s), or it may send on a connection Node is closing.
   * @default 5000
   */
  keepAliveTimeoutMs?: number;
  /**
   * The largest request head (request line and headers) accepted, in bytes;
   * larger ones get 431 from Node itself.
   * @default 16384 (Node's own default)
   */
  maxHeaderBytes?: number;
  /**
   * How long a new connection may stay silent before its first request's
   * headers are complete, in ms; then it is closed. Node's headersTimeout
   * only starts with a request's first byte, so a client that connects and
   * sends nothing would hold a socket (and a file descriptor) forever. Any
   * byte restarts the wait; headersTimeoutMs bounds the whole head.
   * @default 5000 (the keep-alive timeout's default: a connection idle
   * before its first request is treated like one idle between two)
   */
  silentConnectionTimeoutMs?: number;
  /**
   * The most connections the server keeps open at once, so a flood of
   * connections runs into this cap rather than into the file-descriptor
   * limit (where every new connection, and every database or outbound one,
   * fails with EMFILE). At the cap the connection silent longest (no
   * request yet) is closed to make room for the next, so silent ones cannot
   * lock real clients out; when none is silent, Node closes a new connection
   * as soon as it is accepted.
   * @default the process's open-files limit (RLIMIT_NOFILE, read from
   * /proc/self/limits) less a reserve of a quarter of it, at least 64 and
   * at most 1024, for the pools, logs and outbound calls: 768 under the
   * common limit of 1024. No cap where the limit cannot be read (not Linux)
   * or is unlimited.
   */
  maxConnections?: number;
}

export interface ResolvedServerLimits extends Required<
  Omit<ServerLimitsOptions, 'maxConnections'>
> {
  /** Undefined: no cap. */
  maxConnections: number | undefined;
}

export const DEFAULT_SERVER_LIMITS: Omit<ResolvedServerLimits, 'maxConnections'> = {
  headersTimeoutMs: 15_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderBytes: 16_384,
  silentConnectionTimeoutMs: 5_000,
};

/**
 * The soft open-files limit of this process, from /proc/self/limits (Linux);
 * undefined where that is unreadable or says unlimited. Node raises the
 * soft limit to the hard one at startup, so this is what the process has.
 */
export function openFilesLimit(
  read: () => string = () => readFileSync('/proc/self/limits', 'utf8'),
): number | undefined {
  try {
    const line = /^Max open files\s+(\S+)/m.exec(read());
    const limit = Number(line?.[1]);
    return Number.isInteger(limit) && limit > 0 ? limit : undefined;
  } catch {
    return undefined;
  }
}

/** The connection cap for an open-files limit: the limit less its reserve (see maxConnections). */
export function connectionCapFor(openFiles: number | undefined): number | undefined {
  if (openFiles === undefined) return undefined;
  const reserve = Math.min(
    1_024,
    Math.max(Math.floor(openFiles / 4), Math.min(64, Math.floor(openFiles / 2))),
  );
  return Math.max(1, openFiles - reserve);
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`HttpOptions.${name} must be a positive integer (got ${value}).`);
  }
  return value;
}

/** Applies the defaults; throws for a limit that is not a positive integer. */
export function resolveServerLimits(options: ServerLimitsOptions = {}): ResolvedServerLimits {
  const limits = {
    headersTimeoutMs: positive(
      'headersTimeoutMs',
      options.headersTimeoutMs ?? DEFAULT_SERVER_LIMITS.headersTimeoutMs,
    ),
    requestTimeoutMs: positive(
      'requestTimeoutMs',
      options.requestTimeoutMs ?? DEFAULT_SERVER_LIMITS.requestTimeoutMs,
    ),
    keepAliveTimeoutMs: positive(
      'keepAliveTimeoutMs',
      options.keepAliveTimeoutMs ?? DEFAULT_SERVER_LIMITS.keepAliveTimeoutMs,
    ),
    maxHeaderBytes: positive(
      'maxHeaderBytes',
      options.maxHeaderBytes ?? DEFAULT_SERVER_LIMITS.maxHeaderBytes,
    ),
    silentConnectionTimeoutMs: positive(
      'silentConnectionTimeoutMs',
      options.silentConnectionTimeoutMs ?? DEFAULT_SERVER_LIMITS.silentConnectionTimeoutMs,
    ),
    maxConnections:
      options.maxConnections === undefined
        ? connectionCapFor(openFilesLimit())
        : positive('maxConnections', options.maxConnections),
  };
  // Node's own rule (http.createServer): the headers come within the request's time.
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new TypeError(
      `HttpOptions.headersTimeoutMs (${limits.headersTimeoutMs}) must not exceed requestTimeoutMs (${limits.requestTimeoutMs}).`,
    );
  }
  return limits;
}

type LimitedServer = Server & { connectionsCheckingInterval?: number; maxHeaderSize?: number };

interface ConnectionLimits {
  silentConnectionTimeoutMs: number;
  maxConnections: number | undefined;
}

// The servers whose connections are already watched: one set of listeners however often applied.
const watchedServers = new WeakMap<Server, ConnectionLimits>();

/**
 * Closes connections that send no complete request head in time, and makes
 * room at the connection cap by closing the one silent longest. A socket
 * timeout runs from the moment of connecting (restarted by every byte, as
 * Node's parser refreshes it) and is lifted at the first request, when
 * Node's own timeouts take over; when it fires with no request begun,
 * Node's timeout handler destroys the socket. Connections that have sent a
 * request are never closed to make room: with none silent, Node's
 * maxConnections refuses the newcomer instead.
 */
function watchConnections(server: Server, limits: ConnectionLimits): void {
  const watched = watchedServers.get(server);
  const { silentConnectionTimeoutMs, maxConnections } = limits;
  if (watched) {
    Object.assign(watched, { silentConnectionTimeoutMs, maxConnections });
    return;
  }
  const current = { silentConnectionTimeoutMs, maxConnections };
  watchedServers.set(server, current);
  // In the order they connected, so the first is the one silent longest.
  const silent = new Set<Socket>();
  const open = new Set<Socket>();
  // Over TLS the request's socket is the TLS one, and the handshake has its
  // own timeout (tls.Server handshakeTimeout): watch the sockets requests come on.
  const connected = server instanceof TlsServer ? 'secureConnection' : 'connection';
  server.on(connected, (socket: Socket) => {
    open.add(socket);
    silent.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      silent.delete(socket);
    });
    socket.setTimeout(current.silentConnectionTimeoutMs);
    // Keep one place free: at the cap Node would refuse the next client.
    if (current.maxConnections !== undefined && open.size >= current.maxConnections) {
      const [longestSilent] = silent;
      if (longestSilent !== socket) {
        // Counted out now: Node counts it out when destroyed, before its 'close'.
        open.delete(longestSilent);
        silent.delete(longestSilent);
        longestSilent.destroy();
      }
    }
  });
  server.on('request', ({ socket }: { socket: Socket }) => {
    if (!silent.delete(socket)) return;
    // Back to what Node set on connecting: server.timeout, 0 (none) by default.
    socket.setTimeout(server.timeout);
  });
  // No 'upgrade' listener: having one makes Node hand every upgrade request to
  // the listeners instead of the app. An upgraded socket's owner sets its own
  // timeout (ws: none), and Node stops handling its 'timeout' on upgrade.
}

/**
 * Sets the limits on a Node HTTP server that is not listening yet (Express's
 * and Fastify's alike). Node reads them per connection and, for the
 * timeouts, in a sweep every `connectionsCheckingInterval` (30 s by
 * default, read when the server starts listening): a shorter sweep makes a
 * 15 s headers timeout mean about 15 s.
 */
export function applyServerLimits(server: Server, limits: ResolvedServerLimits): void {
  const limited = server as LimitedServer;
  limited.headersTimeout = limits.headersTimeoutMs;
  limited.requestTimeout = limits.requestTimeoutMs;
  limited.keepAliveTimeout = limits.keepAliveTimeoutMs;
  limited.maxHeaderSize = limits.maxHeaderBytes;
  limited.connectionsCheckingInterval = Math.min(
    1_000,
    Math.max(50, Math.floor(limits.headersTimeoutMs / 4)),
  );
  if (limits.maxConnections !== undefined) limited.maxConnections = limits.maxConnections;
  watchConnections(server, limits);
}
