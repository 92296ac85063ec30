import { Logger, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory, type AbstractHttpAdapter } from '@nestjs/core';
import { optionalProvider } from './optional-provider.js';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { isConfigValidationError } from '../config/config-validation.error.js';
import { startMessageConsumers } from '../messaging/start-message-consumers.js';
import { GracefulShutdown } from '../shutdown/graceful-shutdown.service.js';

/** Options of createServiceApp() and bootstrapService(). */
export interface ServiceAppOptions {
  /**
   * The HTTP platform: `'express'`, `'fastify'` (needs @nestjs/platform-fastify),
   * or an adapter instance of your own.
   * @default 'express'
   */
  httpAdapter?: 'express' | 'fastify' | AbstractHttpAdapter;
  /**
   * bootstrapService() only: the longest startup may take before the process
   * exits 1. @default STARTUP_TIMEOUT_MS, else 60000
   */
  startupTimeoutMs?: number;
  /** Called with the app before it is initialized: `setGlobalPrefix()`, `use()`, ... */
  configure?: (app: INestApplication) => void | Promise<void>;
}

export const DEFAULT_STARTUP_TIMEOUT_MS = 60_000;

// The budget starts before the config is loaded, so it is read from the
// environment here; the config validates the same variable.
function startupTimeoutFromEnv(): number {
  const value = Number(process.env.STARTUP_TIMEOUT_MS);
  return Number.isInteger(value) && value > 0 ? value : DEFAULT_STARTUP_TIMEOUT_MS;
}

const logger = new Logger('ServiceApp');

async function httpAdapterFor(
  options: ServiceAppOptions,
): Promise<AbstractHttpAdapter | undefined> {
  const { httpAdapter = 'express' } = options;
  if (httpAdapter === 'express') return undefined;
  if (httpAdapter !== 'fastify') return httpAdapter;
  // Loaded only when asked for: the Fastify platform is an optional dependency.
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  return new FastifyAdapter();
}

/**
 * A convenience over `NestFactory.create()`: the app on the chosen platform,
 * its startup lines buffered until the JSON logger takes them, `configure`
 * applied, initialized, and its message consumers started. Everything on the
 * request path is installed by ProductionReadinessModule itself, so an app
 * made with `NestFactory.create()` gets the same. Throws what startup
 * throws (a ConfigValidationError for a bad environment).
 */
export async function createServiceApp(
  appModule: Type<unknown> | DynamicModule,
  options: ServiceAppOptions = {},
): Promise<INestApplication> {
  const appOptions = { bufferLogs: true, abortOnError: false } as const;
  const adapter = await httpAdapterFor(options);
  const app = adapter
    ? await NestFactory.create(appModule, adapter, appOptions)
    : await NestFactory.create(appModule, appOptions);
  // Without ShutdownModule: Nest's own hooks, if main.ts enables them.
  optionalProvider(app, GracefulShutdown)?.attach(app);
  await options.configure?.(app);
  await app.init();
  if (app.getHttpAdapter().getType() === 'fastify') {
    // Fastify runs its plugins on ready(); supertest needs them done.
    await (app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }).ready();
  }
  await startMessageConsumers(app);
  return app;
}

/**
 * Starts the service: createServiceApp(), then listen on HOST:PORT from the
 * config, within the startup budget. Any startup failure ends the process
 * with exit code 1 and one clear message; an invalid configuration lists
 * every problem, without secrets.
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
