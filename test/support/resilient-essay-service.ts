import type { Server } from 'node:http';
import { Module, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import {
  createServiceApp,
  HttpClient,
  ResiliencePolicies,
  type HttpClientOptions,
  type ResilienceOptions,
} from 'nestjs-production-readiness';
import request from 'supertest';
import { EssayServiceModule } from '../../apps/essay-service/src/app.module.js';
import { ISOLATED_ENV, withEnv, type HttpAdapterName, type HttpAgent } from './essay-service.js';
import { LogCapture } from './log-capture.js';

export interface ResilientEssayServiceOptions {
  /** @default 'express' */
  adapter?: HttpAdapterName;
  env?: Record<string, string | undefined>;
  /** The `resilience` options; without them, the sample app's own. */
  resilience?: ResilienceOptions;
  /** The `httpClient` options; without them, the sample app's own. */
  httpClient?: HttpClientOptions;
  /** Test-only controllers added beside the sample app's own. */
  controllers?: Type<unknown>[];
}

export interface ResilientEssayService {
  app: INestApplication;
  http: HttpAgent;
  logs: LogCapture;
  client: HttpClient;
  policies: ResiliencePolicies;
  close(): Promise<void>;
}

@Module({})
class ResilientEssayServiceModule {
  static forRoot(logs: LogCapture, options: ResilientEssayServiceOptions): DynamicModule {
    return {
      module: ResilientEssayServiceModule,
      imports: [
        EssayServiceModule.forRoot({
          logging: { destination: logs.destination },
          // Every probe sees the breaker's state of the moment.
          health: { cacheTtlMs: 0 },
          ...(options.resilience && { resilience: options.resilience }),
          ...(options.httpClient && { httpClient: options.httpClient }),
        }),
      ],
      controllers: options.controllers ?? [],
    };
  }
}

/** The sample app with the test's resilience and HTTP client options, on loopback, logs captured. */
export async function startResilientEssayService(
  options: ResilientEssayServiceOptions = {},
): Promise<ResilientEssayService> {
  const logs = new LogCapture();
  const module = ResilientEssayServiceModule.forRoot(logs, options);
  const env = { ...ISOLATED_ENV, LANGUAGE_TOOL_URL: undefined, ...options.env };
  const app = await withEnv(env, () =>
    createServiceApp(module, { httpAdapter: options.adapter ?? 'express' }),
  );
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= app.close());
  try {
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    await close();
    throw error;
  }
  return {
    app,
    http: request(app.getHttpServer() as Server),
    logs,
    client: app.get(HttpClient),
    policies: app.get(ResiliencePolicies),
    close,
  };
}
