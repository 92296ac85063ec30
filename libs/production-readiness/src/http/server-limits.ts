import type { Server } from 'node:http';

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
}

export type ResolvedServerLimits = Required<ServerLimitsOptions>;

export const DEFAULT_SERVER_LIMITS: ResolvedServerLimits = {
  headersTimeoutMs: 15_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderBytes: 16_384,
};

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
}
