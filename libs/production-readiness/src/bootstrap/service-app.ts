import { Logger, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory, type AbstractHttpAdapter } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { isConfigValidationError } from '../config/config-validation.error.js';
import { redactSettings } from '../config/redaction.js';
import { MessageBus } from '../messaging/message-bus.service.js';

/** Options of createServiceApp() and bootstrapService(). */
export interface ServiceAppOptions {
  /**
   * The HTTP adapter, such as `new FastifyAdapter()`.
   * @default Express
   */
  httpAdapter?: AbstractHttpAdapter;
  /**
   * The largest JSON or form body accepted, as bytes or `'1mb'`-style text.
   * @default '1mb'
   */
  bodyLimit?: number | string;
}

const logger = new Logger('ServiceApp');

function findMessageBus(app: INestApplication): MessageBus | undefined {
  try {
    return app.get(MessageBus, { strict: false });
  } catch {
    return undefined;
  }
}

/**
 * Creates the app with the library's wiring: body limits, shutdown hooks, and
 * the message consumer connected to the app's `@EventPattern` handlers.
 * Initialized, not listening. Throws what startup throws (a
 * ConfigValidationError for a bad environment).
 */
export async function createServiceApp(
  appModule: Type<unknown>,
  options: ServiceAppOptions = {},
): Promise<INestApplication> {
  const appOptions = { bufferLogs: true, autoFlushLogs: false, abortOnError: false } as const;
  const app = options.httpAdapter
    ? await NestFactory.create(appModule, options.httpAdapter, appOptions)
    : await NestFactory.create<NestExpressApplication>(appModule, appOptions);
  app.flushLogs();

  if (app.getHttpAdapter().getType() === 'express') {
    const bodyLimit = options.bodyLimit ?? '1mb';
    const expressApp = app as NestExpressApplication;
    expressApp.useBodyParser('json', { limit: bodyLimit });
    expressApp.useBodyParser('urlencoded', { limit: bodyLimit, extended: true });
  }
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });

  const config = app.get(BaseServiceConfig);
  logger.log({ message: 'Configuration loaded', settings: redactSettings(config) });

  const bus = findMessageBus(app);
  if (bus?.isEnabled) {
    app.connectMicroservice(bus.consumerOptions(), { inheritAppConfig: true });
    await app.startAllMicroservices();
    logger.log(`Consuming messages over ${bus.kind}`);
  }
  await app.init();
  return app;
}

/**
 * Starts the service: createServiceApp(), then listen on HOST:PORT from the
 * config. Any startup failure ends the process with exit code 1 and one clear
 * message; an invalid configuration lists every problem, without secrets.
 */
export async function bootstrapService(
  appModule: Type<unknown>,
  options: ServiceAppOptions = {},
): Promise<INestApplication> {
  let app: INestApplication | undefined;
  try {
    app = await createServiceApp(appModule, options);
    const config = app.get(BaseServiceConfig);
    await app.listen(config.PORT, config.HOST);
    logger.log(`${config.SERVICE_NAME} ${config.SERVICE_VERSION} listening on ${await app.getUrl()}`);
    return app;
  } catch (error) {
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
