import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { createServiceApp } from 'nestjs-production-readiness';
import request from 'supertest';
import { AppModule } from '../../apps/essay-service/src/app.module.js';
import type { EssayView } from '../../apps/essay-service/src/essays/essays.controller.js';
import { waitFor } from './wait-for.js';

/** A supertest agent bound to a running app. */
export type HttpAgent = ReturnType<typeof request>;

export type HttpAdapterName = 'express' | 'fastify';

export interface StartEssayServiceOptions {
  /**
   * Environment variables for this app; `undefined` unsets one. Applied to
   * `process.env` only while the app is created, which is when the config is read.
   */
  env?: Record<string, string | undefined>;
  /** @default 'express' */
  adapter?: HttpAdapterName;
}

export interface RunningEssayService {
  app: INestApplication;
  http: HttpAgent;
  /** `http://127.0.0.1:<port>` of the listening app. */
  baseUrl: string;
  /** Closes the app; later calls wait for the same close. */
  close(): Promise<void>;
}

/** The essay as `GET /essays/:id` shows it. */
export type EssayBody = EssayView;

// Variables a developer's shell may carry that would silently switch the app
// under test to another database or broker: each test names what it uses.
export const ISOLATED_ENV: Record<string, string | undefined> = {
  DATABASE_URL: 'sqlite::memory:',
  NATS_URL: undefined,
  RABBITMQ_URL: undefined,
  KAFKA_BOOTSTRAP_SERVERS: undefined,
  KAFKA_GROUP_ID: undefined,
  REDIS_URL: undefined,
  SERVICE_NAME: undefined,
  ESSAY_ANALYSIS_DELAY_MS: undefined,
  ESSAY_REDELIVERY_INTERVAL_MS: undefined,
  METRICS_PORT: undefined,
};

/** Runs `action` with `overrides` applied to process.env, then restores it exactly. */
export async function withEnv<T>(
  overrides: Record<string, string | undefined>,
  action: () => Promise<T>,
): Promise<T> {
  const saved = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(overrides)) {
    saved.set(name, process.env[name]);
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  try {
    return await action();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/**
 * Starts the essay service as `createServiceApp()` builds it for production
 * (its real database and bus), listening on an ephemeral loopback port so
 * concurrent requests share one server. Without `env`: in-memory SQLite and
 * the in-process bus.
 */
export async function startEssayService(
  options: StartEssayServiceOptions = {},
): Promise<RunningEssayService> {
  const env = { ...ISOLATED_ENV, ...options.env };
  const httpAdapter = options.adapter ?? 'express';
  const app = await withEnv(env, () => createServiceApp(AppModule, { httpAdapter }));
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= app.close());
  try {
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    await close();
    throw error;
  }
  const baseUrl = await app.getUrl();
  return { app, http: request(app.getHttpServer() as Server), baseUrl, close };
}

/** The essay's id from a `POST /essays` that must have been accepted. */
export async function submitEssay(
  http: HttpAgent,
  body: { title: string; text: string; language?: string },
): Promise<string> {
  const response = await http.post('/essays').send(body);
  if (response.status !== 202) {
    throw new Error(`POST /essays answered ${response.status}: ${JSON.stringify(response.body)}`);
  }
  return (response.body as { id: string }).id;
}

/** Polls `GET /essays/:id` until the essay is processed; returns it. */
export async function waitForProcessed(
  http: HttpAgent,
  id: string,
  timeoutMs = 5_000,
): Promise<EssayBody> {
  return waitFor(
    async () => {
      const response = await http.get(`/essays/${id}`);
      if (response.status !== 200) throw new Error(`GET answered ${response.status}`);
      const essay = response.body as EssayBody;
      return essay.status === 'processed' ? essay : undefined;
    },
    timeoutMs,
    { description: `essay ${id} to be processed`, intervalMs: 100 },
  );
}

/**
 * A SERVICE_NAME of its own for one test file. It names the RabbitMQ queue
 * and the NATS queue group, so concurrent test files never consume each
 * other's messages.
 */
export function uniqueServiceName(label: string): string {
  return `essay-service-test-${label}-${randomBytes(4).toString('hex')}`;
}
