import type { Server } from 'node:http';
import {
  Module,
  type DynamicModule,
  type INestApplication,
  type Provider,
  type Type,
} from '@nestjs/common';
import { createServiceApp, type LoggingOptions } from 'nestjs-production-readiness';
import request from 'supertest';
import { EssayServiceModule } from '../../apps/essay-service/src/app.module.js';
import { ISOLATED_ENV, withEnv, type HttpAdapterName, type HttpAgent } from './essay-service.js';
import { LogCapture } from './log-capture.js';

export interface CapturedEssayServiceOptions {
  /** @default 'express' */
  adapter?: HttpAdapterName;
  /** Environment variables over the isolated defaults (in-memory SQLite, in-process bus). */
  env?: Record<string, string | undefined>;
  /** Logging options besides the destination (quiet paths, redaction). */
  logging?: Omit<LoggingOptions, 'destination'>;
  /** Test-only controllers added beside the sample app's own. */
  controllers?: Type<unknown>[];
  /** Providers for those controllers. */
  providers?: Provider[];
}

/** The sample app, initialized but not listening, with every log line it writes captured. */
export interface CapturedEssayService {
  app: INestApplication;
  http: HttpAgent;
  logs: LogCapture;
  close(): Promise<void>;
}

/** The essay service module plus the test's own controllers. */
@Module({})
class CapturedEssayServiceModule {
  static forRoot(
    logging: LoggingOptions,
    controllers: Type<unknown>[],
    providers: Provider[],
  ): DynamicModule {
    return {
      module: CapturedEssayServiceModule,
      imports: [EssayServiceModule.forRoot({ logging })],
      controllers,
      providers,
    };
  }
}

/**
 * Builds the sample app as createServiceApp() does for production, with its
 * logs going to a LogCapture. The environment is applied only while the app
 * is created (when the config is read), then restored.
 */
export async function startCapturedEssayService(
  options: CapturedEssayServiceOptions = {},
): Promise<CapturedEssayService> {
  const logs = new LogCapture();
  const module = CapturedEssayServiceModule.forRoot(
    { ...options.logging, destination: logs.destination },
    options.controllers ?? [],
    options.providers ?? [],
  );
  const app = await withEnv({ ...ISOLATED_ENV, ...options.env }, () =>
    createServiceApp(module, { httpAdapter: options.adapter ?? 'express' }),
  );
  let closing: Promise<void> | undefined;
  return {
    app,
    http: request(app.getHttpServer() as Server),
    logs,
    close: () => (closing ??= app.close()),
  };
}
