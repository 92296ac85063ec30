import { Logger, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory, type AbstractHttpAdapter } from '@nestjs/core';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { isConfigValidationError } from '../config/config-validation.error.js';
import { redactSettings } from '../config/redaction.js';
import {
  installHttpRequestContext,
  type FinishedRequest,
} from '../context/http-request-context.js';
import { installBodyParsing } from '../errors/body-parsing.js';
import { RouteTable } from '../errors/route-table.js';
import { ERRORS_OPTIONS } from '../errors/errors.module-definition.js';
import { resolveErrorsOptions, type ErrorsOptions } from '../errors/errors.options.js';
import { ServiceLogger } from '../logging/service-logger.js';
import { MessageBus } from '../messaging/message-bus.service.js';
import { MessageContextInterceptor } from '../messaging/message-context.interceptor.js';
import { checkApiKeysInFastifyHooks } from '../security/fastify-api-key-hook.js';
import { installSecurity } from '../security/install-security.js';
import type { ServerLimitsOptions } from '../security/server-limits.js';
import { HttpMetrics } from '../metrics/http-metrics.js';
import { GracefulShutdown } from '../shutdown/graceful-shutdown.service.js';
import { installShutdownGate } from '../shutdown/install-shutdown-gate.js';
import { NestHandlerSpanInterceptor } from '../tracing/nest-handler-span.interceptor.js';
import { tracingState } from '../tracing/tracing-state.js';

/**
 * Options of createServiceApp() and bootstrapService(), with the HTTP
 * server's limits (headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs,
 * maxHeaderBytes).
 */
export interface ServiceAppOptions extends ServerLimitsOptions {
  /**
   * The HTTP platform: `'express'`, `'fastify'` (needs @nestjs/platform-fastify),
   * or an adapter instance of your own (then set Fastify's bodyLimit on it yourself).
   * @default 'express'
   */
  httpAdapter?: 'express' | 'fastify' | AbstractHttpAdapter;
  /**
   * The largest request body accepted, in bytes; larger ones get 413.
   * @default 1048576 (1 MiB)
   */
  bodyLimitBytes?: number;
  /**
   * bootstrapService() only: the longest startup may take before the process
   * exits 1. @default STARTUP_TIMEOUT_MS, else 60000
   */
  startupTimeoutMs?: number;
}

export const DEFAULT_BODY_LIMIT_BYTES = 1_048_576;
export const DEFAULT_STARTUP_TIMEOUT_MS = 60_000;

// The budget starts before the config is loaded, so it is read from the
// environment here; the config validates the same variable.
function startupTimeoutFromEnv(): number {
  const value = Number(process.env.STARTUP_TIMEOUT_MS);
  return Number.isInteger(value) && value > 0 ? value : DEFAULT_STARTUP_TIMEOUT_MS;
}

const logger = new Logger('ServiceApp');

let isTracingReported = false;

// Says once per process whether spans are exported, and why not: the tracing
// entry runs before any logger exists. An endpoint set without the entry is
// the mistake worth a warning.
function reportTracing(config: BaseServiceConfig): void {
  if (isTracingReported) return;
  isTracingReported = true;
  const state = tracingState();
  if (state) {
    logger.log({ message: state.description, tracing: state.isActive });
  } else if (
    config.TRACING_ENABLED &&
    (process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
  ) {
    logger.warn(
      'Tracing is off: an OTLP endpoint is set but tracing was never started; add ' +
        "`import 'nestjs-production-readiness/tracing';` as the first line of main.ts " +
        '(or run node with `--import nestjs-production-readiness/tracing`).',
    );
  }
}

function optional<T>(app: INestApplication, token: Type<T> | string): T | undefined {
  try {
    return app.get<T>(token, { strict: false });
  } catch {
    return undefined;
  }
}

async function httpAdapterFor(
  options: ServiceAppOptions,
): Promise<AbstractHttpAdapter | undefined> {
  const { httpAdapter = 'express' } = options;
  if (httpAdapter === 'express') return undefined;
  if (httpAdapter !== 'fastify') return httpAdapter;
  // Loaded only when asked for: the Fastify platform is an optional dependency.
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  return new FastifyAdapter({ bodyLimit: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES });
}

// The access log and the HTTP metrics, each only when on: one call per request.
function whenRequestFinishes(
  app: INestApplication,
  serviceLogger: ServiceLogger | undefined,
): ((request: FinishedRequest) => void) | undefined {
  const logger = serviceLogger?.isAccessLogEnabled ? serviceLogger : undefined;
  const httpMetrics = optional(app, HttpMetrics);
  const metrics = httpMetrics?.isEnabled ? httpMetrics : undefined;
  if (!logger && !metrics) return undefined;
  const routes = optional(app, RouteTable);
  return (request) => {
    // Express answers a body it cannot parse before routing: name the route
    // it was meant for, as Fastify (which routes first) does.
    if (request.route === undefined && request.statusCode !== 404 && request.statusCode !== 405) {
      request.route = routes?.templateFor(request.method, request.path);
    }
    metrics?.record(request);
    logger?.logRequest(request);
  };
}

/**
 * Creates the app with the library's wiring, in the order requests need it:
 * the JSON logger as Nest's logger; the correlation-id context first in the
 * HTTP chain, with the access log; JSON body parsing with its limit and 415s;
 * shutdown hooks; the message consumer connected to the app's
 * `@EventPattern` handlers. Initialized, not listening. Throws what startup
 * throws (a ConfigValidationError for a bad environment).
 */
export async function createServiceApp(
  appModule: Type<unknown> | DynamicModule,
  options: ServiceAppOptions = {},
): Promise<INestApplication> {
  const appOptions = {
    bufferLogs: true,
    autoFlushLogs: false,
    abortOnError: false,
    // Parsing is set up by installBodyParsing(), after the request context.
    bodyParser: false,
  } as const;
  const adapter = await httpAdapterFor(options);
  // Said before the modules are made: the API-key guard is registered or not
  // by it, and installSecurity() below installs the route hooks in its place.
  if (adapter?.getType() === 'fastify') checkApiKeysInFastifyHooks(adapter);
  const app = adapter
    ? await NestFactory.create(appModule, adapter, appOptions)
    : await NestFactory.create(appModule, appOptions);

  const serviceLogger = optional(app, ServiceLogger);
  if (serviceLogger) app.useLogger(serviceLogger);
  app.flushLogs();

  installHttpRequestContext(app, { onFinish: whenRequestFinishes(app, serviceLogger) });
  const shutdown = optional(app, GracefulShutdown);
  if (shutdown) {
    // Right after the request context: a refused request carries its id.
    installShutdownGate(app, shutdown);
    shutdown.attach(app);
  } else {
    app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  }
  // Headers, CORS and server limits: after the context so refusals carry its id.
  installSecurity(app, options);
  const errorsOptions = resolveErrorsOptions(optional<ErrorsOptions>(app, ERRORS_OPTIONS));
  installBodyParsing(app, {
    bodyLimitBytes: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    extraBodyTypes: errorsOptions.extraBodyTypes,
  });

  const config = app.get(BaseServiceConfig);
  logger.log({ message: 'Configuration loaded', settings: redactSettings(config) });
  reportTracing(config);
  const tracing = tracingState();
  if (tracing?.isActive) {
    app.useGlobalInterceptors(new NestHandlerSpanInterceptor());
    // After the in-flight requests and message handlers, whose spans it exports.
    shutdown?.registerCleanup('tracing', () => tracing.shutdown());
  }

  await app.init();
  if (app.getHttpAdapter().getType() === 'fastify') {
    // Fastify runs its plugins on ready(); supertest and listen() need them done.
    await (app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }).ready();
  }
  const bus = optional(app, MessageBus);
  if (bus?.isEnabled) {
    // The HTTP routes took their enhancers in init(); the handlers take theirs
    // when connected, so the message interceptor (context, metrics, in-flight
    // count, consumer span) runs on message handlers only, and they still
    // inherit the app's filters, pipes and guards.
    app.useGlobalInterceptors(app.get(MessageContextInterceptor, { strict: false }));
    app.connectMicroservice(bus.consumerOptions(), { inheritAppConfig: true });
    await app.startAllMicroservices();
    logger.log(`Consuming messages over ${bus.kind}`);
  }
  return app;
}

/**
 * Starts the service: createServiceApp(), then listen on HOST:PORT from the
 * config. Any startup failure ends the process with exit code 1 and one clear
 * message; an invalid configuration lists every problem, without secrets.
 */
export async function bootstrapService(
  appModule: Type<unknown> | DynamicModule,
  options: ServiceAppOptions = {},
): Promise<INestApplication> {
  let app: INestApplication | undefined;
  const budgetMs = options.startupTimeoutMs ?? startupTimeoutFromEnv();
  // Not unref'd: a startup stuck on a dependency still ends, at the budget.
  const budget = setTimeout(() => {
    // Logs are still buffered while the app is being created: show them, then
    // say why we stop, on stderr (synchronous), as a config error is.
    Logger.flush();
    process.stderr.write(
      `Startup did not finish within ${budgetMs} ms (STARTUP_TIMEOUT_MS): a dependency ` +
        'never answered or a migration is stuck; the last lines above show how far it got.\n',
    );
    process.exit(1);
  }, budgetMs);
  try {
    app = await createServiceApp(appModule, options);
    const config = app.get(BaseServiceConfig);
    await app.listen(config.PORT, config.HOST);
    clearTimeout(budget);
    logger.log(
      `${config.SERVICE_NAME} ${config.SERVICE_VERSION} listening on ${await app.getUrl()}`,
    );
    return app;
  } catch (error) {
    clearTimeout(budget);
    if (isConfigValidationError(error)) {
      process.stderr.write(`${error.message}\n`);
    } else {
      // Startup logs were buffered; show them, they explain the failure.
      Logger.flush();
      logger.error(`Startup failed: ${error instanceof Error ? error.message : String(error)}`);
      await app?.close().catch(() => undefined);
    }
    process.exit(1);
  }
}
