import type { Server } from 'node:http';
import type { INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { LOGGING_OPTIONS } from 'nestjs-production-readiness';
import request from 'supertest';
import { LogCapture } from '../support/log-capture.js';
import { PLAIN_ENV } from '../plain/plain-env.js';
import { initTestingApp } from '../support/testing-app.js';

export type HttpAgent = ReturnType<typeof request>;

export const ADAPTERS = ['express', 'fastify'] as const;
export type Adapter = (typeof ADAPTERS)[number];

/** A user's app, started as `nest new`'s e2e test starts one. */
export interface UserApp {
  app: INestApplication;
  http: HttpAgent;
  logs: LogCapture;
}

// The config is read from process.env while the module compiles; restored after.
async function withEnv<T>(
  overrides: Record<string, string | undefined>,
  action: () => Promise<T>,
): Promise<T> {
  const saved = Object.keys(overrides).map((name) => [name, process.env[name]] as const);
  const apply = (entries: Iterable<readonly [string, string | undefined]>) => {
    for (const [name, value] of entries) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(Object.entries(overrides));
  try {
    return await action();
  } finally {
    apply(saved);
  }
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
