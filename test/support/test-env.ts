import request from 'supertest';

/** A supertest agent bound to a running app. */
export type HttpAgent = ReturnType<typeof request>;

export type HttpAdapterName = 'express' | 'fastify';

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
