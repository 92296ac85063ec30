import type { DestinationStream } from 'pino';

/** Options of LoggingModule. */
export interface LoggingOptions {
  /**
   * Where the JSON lines go.
   * @default stdout, asynchronous and batched (createLogDestination(1))
   */
  destination?: DestinationStream;
  /**
   * Write one access line per HTTP request: `true` always, `false` never,
   * `'auto'` unless pino-http writes it. With `'auto'` a request that
   * pino-http's middleware (nestjs-pino's LoggerModule, or `app.use(pinoHttp())`)
   * handled is left to its line; the others (refused before the app's
   * middleware, or outside nestjs-pino's routes) get ours. Ours is always
   * written when nestjs-pino's `pinoHttp.autoLogging` is `false`.
   * @default 'auto'
   */
  accessLog?: AccessLogMode;
  /**
   * Paths whose access lines are left out unless they answer 5xx: probes and metrics.
   * @default ['/livez', '/readyz', '/healthz', '/startupz', '/metrics']
   */
  quietPaths?: string[];
  /**
   * More field names to redact wherever they appear in a logged object, and
   * request header names to hide from every JSON log line (pino-http's
   * included), besides authorization, proxy-authorization, cookie,
   * set-cookie, the API-key header and any name containing password, secret,
   * token or apikey.
   * @default []
   */
  redactFields?: string[];
}

/** Whether the access line is written: always, never, or unless pino-http writes one. */
export type AccessLogMode = boolean | 'auto';

export interface ResolvedLoggingOptions {
  destination?: DestinationStream;
  accessLog: AccessLogMode;
  quietPaths: ReadonlySet<string>;
  redactFields: readonly string[];
}

export const DEFAULT_QUIET_PATHS = ['/livez', '/readyz', '/healthz', '/startupz', '/metrics'];

export function resolveLoggingOptions(options: LoggingOptions = {}): ResolvedLoggingOptions {
  return {
    destination: options.destination,
    accessLog: options.accessLog ?? 'auto',
    quietPaths: new Set(options.quietPaths ?? DEFAULT_QUIET_PATHS),
    redactFields: options.redactFields ?? [],
  };
}
