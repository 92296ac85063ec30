import type { Server } from 'node:http';
import {
  Module,
  type DynamicModule,
  type INestApplication,
  type Provider,
  type Type,
} from '@nestjs/common';
import {
  createServiceApp,
  ProductionReadinessModule,
  type LoggingOptions,
  type ProductionReadinessOptions,
  type ServiceAppOptions,
} from 'nestjs-production-readiness';
import request from 'supertest';
import {
  ESSAY_SERVICE_FEATURES,
  ESSAY_SERVICE_READINESS,
} from '../../apps/essay-service/src/app.module.js';
import { ISOLATED_ENV, withEnv, type HttpAdapterName, type HttpAgent } from './test-env.js';
import { LogCapture } from './log-capture.js';

export interface CapturedEssayServiceOptions {
  /** @default 'express' */
  adapter?: HttpAdapterName;
  /** Environment variables over the isolated defaults (in-memory SQLite, in-process bus). */
  env?: Record<string, string | undefined>;
  /** Logging options besides the destination (quiet paths, redaction). */
  logging?: Omit<LoggingOptions, 'destination'>;
  /** More ProductionReadinessModule options of the sample app (security, resilience, health…). */
  readiness?: Omit<ProductionReadinessOptions, 'logging'>;
  /** createServiceApp() options besides the adapter (the server limits). */
  serviceApp?: Omit<ServiceAppOptions, 'httpAdapter'>;
  /** Listen on an ephemeral loopback port (for raw sockets and browsers). @default false */
  listen?: boolean;
  /** Test-only controllers added beside the sample app's own. */
  controllers?: Type<unknown>[];
  /** Providers for those controllers. */
  providers?: Provider[];
}

/** The sample app, initialized (and listening when asked), with every log line it writes captured. */
export interface CapturedEssayService {
  app: INestApplication;
  http: HttpAgent;
  logs: LogCapture;
  /** `http://127.0.0.1:<port>` when listening. */
  baseUrl?: string;
  close(): Promise<void>;
}

/** The sample app listening on an ephemeral loopback port. */
export interface ListeningEssayService extends CapturedEssayService {
  baseUrl: string;
}

/**
 * The sample app's AppModule with a test's options over its own, plus the
 * test's controllers: AppModule's imports, with ProductionReadinessModule
 * given the merged options.
 */
@Module({})
class CapturedEssayServiceModule {
  static forRoot(
    options: ProductionReadinessOptions,
    controllers: Type<unknown>[] = [],
    providers: Provider[] = [],
  ): DynamicModule {
    return {
      module: CapturedEssayServiceModule,
      imports: [
        ProductionReadinessModule.forRoot({ ...ESSAY_SERVICE_READINESS, ...options }),
        ...ESSAY_SERVICE_FEATURES,
      ],
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
  options: CapturedEssayServiceOptions & { listen: true },
): Promise<ListeningEssayService>;
export async function startCapturedEssayService(
  options?: CapturedEssayServiceOptions,
): Promise<CapturedEssayService>;
export async function startCapturedEssayService(
  options: CapturedEssayServiceOptions = {},
): Promise<CapturedEssayService> {
  const logs = new LogCapture();
  const module = CapturedEssayServiceModule.forRoot(
    { ...options.readiness, logging: { ...options.logging, destination: logs.destination } },
    options.controllers ?? [],
    options.providers ?? [],
  );
  const app = await withEnv({ ...ISOLATED_ENV, ...options.env }, () =>
    createServiceApp(module, { ...options.serviceApp, httpAdapter: options.adapter ?? 'express' }),
  );
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= app.close());
  let baseUrl: string | undefined;
  if (options.listen) {
    try {
      await app.listen(0, '127.0.0.1');
    } catch (error) {
      await close();
      throw error;
    }
    baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  }
  return { app, http: request(app.getHttpServer() as Server), logs, baseUrl, close };
}
