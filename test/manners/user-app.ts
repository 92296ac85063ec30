import type { Server } from 'node:http';
import type { INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { LOGGING_OPTIONS } from 'nestjs-production-readiness';
import request from 'supertest';
import { LogCapture } from '../support/log-capture.js';
import { PLAIN_ENV } from '../plain/plain-env.js';
import { withEnv, type HttpAgent } from '../support/test-env.js';
import { initTestingApp } from '../support/testing-app.js';

export type { HttpAgent } from '../support/test-env.js';

export const ADAPTERS = ['express', 'fastify'] as const;
export type Adapter = (typeof ADAPTERS)[number];

/** A user's app, started as `nest new`'s e2e test starts one. */
export interface UserApp {
  app: INestApplication;
  http: HttpAgent;
  logs: LogCapture;
}

/**
 * Starts a user's own root module (ProductionReadinessModule.forRoot() plus
 * the app's controllers) on either adapter, with the environment the base
 * config asks of every service; logs are captured by overriding the log
 * destination, as a user overrides any provider.
 */
export async function startUserApp(
  rootModule: Type<unknown>,
  adapter: Adapter,
  env: Record<string, string | undefined> = {},
): Promise<UserApp> {
  const logs = new LogCapture();
  const app = await withEnv({ ...PLAIN_ENV, ...env }, async () => {
    const moduleFixture = await Test.createTestingModule({ imports: [rootModule] })
      .overrideProvider(LOGGING_OPTIONS)
      .useValue({ destination: logs.destination })
      .compile();
    return initTestingApp(moduleFixture, adapter);
  });
  return { app, http: request(app.getHttpServer() as Server), logs };
}
