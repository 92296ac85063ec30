import { Inject, Injectable, type LoggerService, type OnApplicationShutdown } from '@nestjs/common';
import { pino, type DestinationStream, type Level, type Logger as PinoLogger } from 'pino';
import { BaseServiceConfig, type LogLevel } from '../config/base-service.config.js';
import { SERVICE_CONFIG } from '../config/default-service-config.js';
import { RequestContext } from '../context/request-context.js';
import { activeSpanContext, isTracingActive } from '../tracing/tracing-state.js';
import type { FinishedRequest } from '../http/request-entry.js';
import { LOGGING_OPTIONS } from './logging.module-definition.js';
import {
  resolveLoggingOptions,
  type LoggingOptions,
  type ResolvedLoggingOptions,
} from './logging.options.js';
import { createLogDestination, type LogDestination } from './log-destination.js';
import { fieldRedactor } from './redact-fields.js';

/** LOG_LEVEL (the standards document's names) to pino's levels. */
export const PINO_LEVELS: Record<LogLevel, Level> = {
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  ERROR: 'error',
  CRITICAL: 'fatal',
};

const NO_CONTEXT = Object.freeze({});
// Marks the access line; a symbol, so pino never writes it.
const ACCESS_LINE = Symbol('accessLine');

function untracedMixin(): object {
  const correlationId = RequestContext.correlationId;
  return correlationId === undefined ? NO_CONTEXT : { correlationId };
}

// Chosen when the logger is built: only a traced process reads the span.
function tracedMixin(): object {
  const correlationId = RequestContext.correlationId;
  const spanContext = activeSpanContext();
  if (!spanContext) return correlationId === undefined ? NO_CONTEXT : { correlationId };
  const { traceId, spanId } = spanContext;
  return correlationId === undefined ? { traceId, spanId } : { correlationId, traceId, spanId };
}

let lastTimestampMs = 0;
let lastTimestamp = '';
let lastSecond = -1;
// `,"time":"2026-12-04T19:00:00.` of the current second.
let secondPrefix = '';

/**
 * pino's ISO time, formatted once per millisecond: under load many lines
 * share a millisecond, and toISOString() was the largest cost of a line. The
 * date and time are formatted once per second, each new millisecond appends
 * its three digits.
 */
function isoTimestamp(): string {
  const now = Date.now();
  if (now !== lastTimestampMs) {
    lastTimestampMs = now;
    const second = Math.floor(now / 1000);
    if (second !== lastSecond) {
      lastSecond = second;
      secondPrefix = `,"time":"${new Date(second * 1000).toISOString().slice(0, 20)}`;
    }
    const ms = now - second * 1000;
    lastTimestamp = `${secondPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`;
  }
  return lastTimestamp;
}
const STACK_LINE = /\n\s+at /;
const PINO_METADATA = Symbol.for('pino.metadata');

/**
 * The `base` fields as pino writes them after the time: `,"name":value` for
 * each field that is set, in order (pino leaves out undefined ones). The
 * access-line test compares the bytes with pino's own line.
 */
function serializedBase(base: Record<string, string | undefined>): string {
  let serialized = '';
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined) serialized += `,${JSON.stringify(name)}:${JSON.stringify(value)}`;
  }
  return serialized;
}

/** The names redacted besides the built-in ones: the API-key header and `redactFields`. */
export function extraSensitiveNames(
  config: BaseServiceConfig,
  options: ResolvedLoggingOptions,
): string[] {
  return [(config.API_KEY_HEADER ?? 'x-api-key').toLowerCase(), ...options.redactFields];
}

/**
 * The app's logger: JSON lines through pino, with service, version and
 * environment on every line and the correlation id on every line written
 * while handling a request or a message. It is Nest's LoggerService, so
 * `new Logger('Ctx')` from @nestjs/common and Nest's own messages go through it.
 */
@Injectable()
export class ServiceLogger implements LoggerService, OnApplicationShutdown {
  /** The pino logger underneath, for code that wants pino's API. */
  readonly pino: PinoLogger;
  private readonly options: ResolvedLoggingOptions;
  private readonly accessLineStream?: DestinationStream;
  /** The `base` fields as pino serializes them (`,"service":…`), shared by every line. */
  private readonly chindings: string;

  constructor(
    @Inject(SERVICE_CONFIG) config: BaseServiceConfig,
    @Inject(LOGGING_OPTIONS) options: LoggingOptions,
  ) {
    this.options = resolveLoggingOptions(options);
    const redact = fieldRedactor(extraSensitiveNames(config, this.options));
    const destination = this.options.destination ?? stdoutDestination();
    const base = {
      service: config.SERVICE_NAME,
      version: config.SERVICE_VERSION,
      environment: config.ENVIRONMENT,
    };
    this.pino = pino(
      {
        level: PINO_LEVELS[config.LOG_LEVEL ?? 'INFO'],
        base,
        timestamp: isoTimestamp,
        formatters: {
          level: (label) => ({ level: label }),
          // The access line is built here from known fields: nothing to redact.
          log: (object) =>
            (ACCESS_LINE in object ? object : redact(object)) as Record<string, unknown>,
        },
        mixin: isTracingActive() ? tracedMixin : untracedMixin,
        // pino's default strategy writes into the mixin's object; the shared
        // empty one must stay untouched, and the line's own fields win.
        mixinMergeStrategy: (line: object, mixed: object) =>
          mixed === NO_CONTEXT ? line : Object.assign(mixed, line),
      },
      destination,
    );
    // Access lines skip pino's serialization, except where pino must see
    // them: a destination that asks for each line's metadata (pino's
    // documented `Symbol.for('pino.metadata')` flag, set by multistream), or
    // a traced process (the span's ids come from the mixin).
    const wantsMetadata =
      (destination as unknown as Partial<Record<symbol, unknown>>)[PINO_METADATA] === true;
    this.accessLineStream = wantsMetadata || isTracingActive() ? undefined : destination;
    this.chindings = serializedBase(base);
  }

  log(message: unknown, ...optionalParams: unknown[]): void {
    this.write('info', message, optionalParams);
  }

  error(message: unknown, ...optionalParams: unknown[]): void {
    this.write('error', message, optionalParams);
  }

  warn(message: unknown, ...optionalParams: unknown[]): void {
    this.write('warn', message, optionalParams);
  }

  debug(message: unknown, ...optionalParams: unknown[]): void {
    this.write('debug', message, optionalParams);
  }

  verbose(message: unknown, ...optionalParams: unknown[]): void {
    this.write('trace', message, optionalParams);
  }

  fatal(message: unknown, ...optionalParams: unknown[]): void {
    this.write('fatal', message, optionalParams);
  }

  /** The access line of one request: method, route template, status, duration. */
  logRequest(request: FinishedRequest): void {
    const { statusCode } = request;
    if (statusCode < 500 && this.options.quietPaths.has(request.path)) return;
    const level: Level = statusCode >= 500 ? 'error' : statusCode >= 400 ? 'warn' : 'info';
    if (!this.pino.isLevelEnabled(level)) return;
    // The response finishes inside the request's context on both adapters;
    // the id check keeps another request's key id off this line regardless.
    const store = RequestContext.current();
    const apiKeyId = store?.correlationId === request.correlationId ? store.apiKeyId : undefined;
    if (this.accessLineStream) {
      this.accessLineStream.write(this.accessLine(level, request, apiKeyId));
      return;
    }
    this.pino[level](
      {
        [ACCESS_LINE]: true,
        correlationId: request.correlationId,
        method: request.method,
        route: request.route ?? null,
        path: request.path,
        status: statusCode,
        durationMs: Math.round(request.durationMs * 100) / 100,
        ...(apiKeyId !== undefined && { apiKeyId }),
      },
      'request completed',
    );
  }

  /**
   * The access line as pino would write it, written straight to the
   * destination: the fields are known, so pino's generic serialization (and
   * the object it needs) is not. The same bytes as pino's line for it, tested.
   */
  private accessLine(level: Level, request: FinishedRequest, apiKeyId: string | undefined): string {
    const { route } = request;
    return (
      `{"level":"${level}"${isoTimestamp()}${this.chindings}` +
      `,"correlationId":${JSON.stringify(request.correlationId)}` +
      `,"method":${JSON.stringify(request.method)}` +
      `,"route":${route === undefined ? 'null' : JSON.stringify(route)}` +
      `,"path":${JSON.stringify(request.path)}` +
      `,"status":${request.statusCode}` +
      `,"durationMs":${Math.round(request.durationMs * 100) / 100}` +
      (apiKeyId === undefined ? '' : `,"apiKeyId":${JSON.stringify(apiKeyId)}`) +
      `,"msg":"request completed"}\n`
    );
  }

  /** True unless access lines are turned off (`accessLog: false`). */
  get isAccessLogEnabled(): boolean {
    return this.options.accessLog !== false;
  }

  /** Writes out what the asynchronous destination still holds. */
  flush(): void {
    this.pino.flush();
  }

  /**
   * Waits until every line written so far has reached the destination, at
   * most `timeoutMs`. Before process.exit(): a synchronous flush while an
   * asynchronous write is in flight can reorder or lose the last lines.
   */
  drain(timeoutMs = 1_000): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.pino.flush(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  onApplicationShutdown(): void {
    this.flush();
  }

  // Nest calls log(message, context), error(message, stack, context),
  // error(message, context) and error(errorObject, context); the last string
  // parameter is the context, as in Nest's ConsoleLogger.
  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const rest = [...params];
    const context =
      rest.length > 0 && typeof rest[rest.length - 1] === 'string'
        ? (rest.pop() as string)
        : undefined;
    const fields: Record<string, unknown> = {};
    if (context !== undefined) fields.context = context;
    const stack = rest.find(
      (param): param is string => typeof param === 'string' && STACK_LINE.test(param),
    );
    if (stack) fields.stack = stack;

    if (message instanceof Error) {
      this.pino[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      const { message: text, msg, ...object } = message as Record<string, unknown>;
      const line = typeof text === 'string' ? text : typeof msg === 'string' ? msg : undefined;
      this.pino[level]({ ...object, ...fields }, line);
    } else {
      this.pino[level](fields, String(message));
    }
  }
}

let stdout: LogDestination | undefined;

// One stdout stream per process, however many apps it runs.
function stdoutDestination(): LogDestination {
  return (stdout ??= createLogDestination(1));
}
