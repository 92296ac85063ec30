import type { INestApplication, Type } from '@nestjs/common';
import {
  HttpClient,
  ResiliencePolicies,
  type HttpClientOptions,
  type ResilienceOptions,
} from 'nestjs-production-readiness';
import { startCapturedEssayService } from './captured-essay-service.js';
import type { HttpAdapterName, HttpAgent } from './essay-service.js';
import type { LogCapture } from './log-capture.js';

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

/** The sample app with the test's resilience and HTTP client options, on loopback, logs captured. */
export async function startResilientEssayService(
  options: ResilientEssayServiceOptions = {},
): Promise<ResilientEssayService> {
  const service = await startCapturedEssayService({
    adapter: options.adapter,
    env: { LANGUAGE_TOOL_URL: undefined, ...options.env },
    readiness: {
      // Every probe sees the breaker's state of the moment.
      health: { cacheTtlMs: 0 },
      ...(options.resilience && { resilience: options.resilience }),
      ...(options.httpClient && { httpClient: options.httpClient }),
    },
    controllers: options.controllers,
    listen: true,
  });
  const { app } = service;
  return {
    ...service,
    client: app.get(HttpClient),
    policies: app.get(ResiliencePolicies),
  };
}
