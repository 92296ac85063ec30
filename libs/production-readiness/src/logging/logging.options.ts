import type { DestinationStream } from 'pino';

/** Options of LoggingModule. */
export interface LoggingOptions {
  /**
   * Where the JSON lines go.
   * @default stdout, asynchronous and batched (createLogDestination(1))
   */
  destination?: DestinationStream;
  /**
   * Write one access line per HTTP request.
   * @default true
   */
  accessLog?: boolean;
  /**
   * Paths whose access lines are left out unless they answer 5xx: probes and metrics.
   * @default ['/livez', '/readyz', '/healthz', '/startupz', '/metrics']
   */
  quietPaths?: string[];
  /**
   * More field names to redact wherever they appear in a logged object,
   * besides authorization, cookie, set-cookie, the API-key header and any
   * name containing password, secret, token or apikey.
   * @default []
   */
  redactFields?: string[];
}

export interface ResolvedLoggingOptions {
  destination?: DestinationStream;
  accessLog: boolean;
  quietPaths: ReadonlySet<string>;
  redactFields: readonly string[];
}

export const DEFAULT_QUIET_PATHS = ['/livez', '/readyz', '/healthz', '/startupz', '/metrics'];

export function resolveLoggingOptions(options: LoggingOptions = {}): ResolvedLoggingOptions {
  return {
    destination: options.destination,
    accessLog: options.accessLog ?? true,
    quietPaths: new Set(options.quietPaths ?? DEFAULT_QUIET_PATHS),
    redactFields: options.redactFields ?? [],
  };
}
