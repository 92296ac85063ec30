import type { Server } from 'node:http';
import { Module, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import {
  createServiceApp,
  type SecurityOptions,
  type ServerLimitsOptions,
} from 'nestjs-production-readiness';
import request from 'supertest';
import { EssayServiceModule } from '../../apps/essay-service/src/app.module.js';
import { ISOLATED_ENV, withEnv, type HttpAdapterName, type HttpAgent } from './essay-service.js';
import { LogCapture } from './log-capture.js';

export interface SecuredEssayServiceOptions {
  /** @default 'express' */
  adapter?: HttpAdapterName;
  /**
   * Environment over the isolated defaults, which also unset API_KEYS,
   * API_KEY_HEADER and CORS_ORIGINS: each test names the keys and origins it uses.
   */
  env?: Record<string, string | undefined>;
  /** The `security` options of ProductionReadinessModule. */
  security?: SecurityOptions;
  /** The HTTP server's limits, as createServiceApp() takes them. */
  serverLimits?: ServerLimitsOptions;
  /** Test-only controllers added beside the sample app's own. */
  controllers?: Type<unknown>[];
}

/** The sample app listening on loopback, with its logs captured. */
export interface SecuredEssayService {
  app: INestApplication;
  http: HttpAgent;
  logs: LogCapture;
  /** `http://127.0.0.1:<port>`. */
  baseUrl: string;
  close(): Promise<void>;
}

@Module({})
class SecuredEssayServiceModule {
  static forRoot(
    logs: LogCapture,
    security: SecurityOptions | undefined,
    controllers: Type<unknown>[],
  ): DynamicModule {
    return {
      module: SecuredEssayServiceModule,
      imports: [
        EssayServiceModule.forRoot({ logging: { destination: logs.destination }, security }),
      ],
      controllers,
    };
  }
}

/**
 * The sample app as createServiceApp() builds it for production, with the
 * test's security options, server limits and controllers, listening on an
 * ephemeral loopback port (for raw sockets and browsers as well as supertest).
 */
export async function startSecuredEssayService(
  options: SecuredEssayServiceOptions = {},
): Promise<SecuredEssayService> {
  const logs = new LogCapture();
  const module = SecuredEssayServiceModule.forRoot(
    logs,
    options.security,
    options.controllers ?? [],
  );
  const env = {
    ...ISOLATED_ENV,
    API_KEYS: undefined,
    API_KEY_HEADER: undefined,
    CORS_ORIGINS: undefined,
    ...options.env,
  };
  const app = await withEnv(env, () =>
    createServiceApp(module, {
      httpAdapter: options.adapter ?? 'express',
      ...options.serverLimits,
    }),
  );
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= app.close());
  try {
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    await close();
    throw error;
  }
  const baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, http: request(app.getHttpServer() as Server), logs, baseUrl, close };
}
