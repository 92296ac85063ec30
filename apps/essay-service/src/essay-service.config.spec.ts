import { readFileSync } from 'node:fs';
import { isConfigValidationError, loadConfig, redactSettings } from 'nestjs-production-readiness';
import { describe, expect, it } from 'vitest';
import { EssayServiceConfig } from './essay-service.config.js';

const rootPackage = JSON.parse(
  readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
) as {
  version: string;
};

function load(env: Record<string, string>): EssayServiceConfig {
  return loadConfig(EssayServiceConfig, { env, envFilePath: false });
}

function problemsOf(env: Record<string, string>): string {
  try {
    load(env);
  } catch (error) {
    if (isConfigValidationError(error)) return error.message;
    throw error;
  }
  throw new Error('EssayServiceConfig accepted an environment it should have refused');
}

describe('EssayServiceConfig', () => {
  it('starts with no environment at all, on the documented defaults', () => {
    expect(load({})).toMatchObject({
      SERVICE_NAME: 'essay-service',
      SERVICE_VERSION: rootPackage.version,
      ENVIRONMENT: 'production',
      HOST: '0.0.0.0',
      PORT: 3000,
      DATABASE_URL: 'sqlite:data/essay-service.sqlite',
      DATABASE_POOL_SIZE: 10,
      DATABASE_MAX_OVERFLOW: 20,
      KAFKA_BOOTSTRAP_SERVERS: undefined,
      KAFKA_GROUP_ID: undefined,
      KAFKA_AUTO_OFFSET_RESET: 'earliest',
      NATS_URL: undefined,
      RABBITMQ_URL: undefined,
      REDIS_URL: undefined,
      REDIS_POOL_SIZE: 10,
      LOG_LEVEL: 'INFO',
      METRICS_ENABLED: true,
      TRACING_ENABLED: true,
      CORS_ORIGINS: [],
      API_KEY_HEADER: 'X-API-Key',
      API_KEYS: [],
      SHUTDOWN_TIMEOUT_MS: 25_000,
      SHUTDOWN_DRAIN_DELAY_MS: undefined,
      ESSAY_REDELIVERY_INTERVAL_MS: 30_000,
      ESSAY_ANALYSIS_DELAY_MS: 0,
    });
  });

  it('names its errors after the service config', () => {
    expect(problemsOf({ PORT: 'abc' })).toMatch(
      /^Invalid configuration for EssayServiceConfig: 1 problem\n/,
    );
  });

  it.each([
    'sqlite::memory:',
    'sqlite:/var/lib/essay-service/essays.sqlite',
    'postgres://app:pw@db:5432/essays',
    'postgresql://app@db/essays',
  ])('accepts DATABASE_URL=%j', (url) => {
    expect(load({ DATABASE_URL: url }).DATABASE_URL).toBe(url);
  });

  it('rejects a mysql:// DATABASE_URL without showing its password', () => {
    const message = problemsOf({ DATABASE_URL: 'mysql://app:My5qlPassw0rd@db:3306/essays' });

    expect(message).toContain(
      '  - DATABASE_URL: must be a URL starting with sqlite: or postgres: or postgresql: (value hidden)',
    );
    expect(message).not.toContain('My5qlPassw0rd');
  });

  it('still validates the optional Kafka and Redis settings when they are set', () => {
    const message = problemsOf({
      KAFKA_BOOTSTRAP_SERVERS: 'kafka',
      REDIS_URL: 'http://cache:6379',
    });

    expect(message).toContain(
      '  - KAFKA_BOOTSTRAP_SERVERS: must be a comma-separated list of host:port pairs',
    );
    expect(message).toContain(
      '  - REDIS_URL: must be a URL starting with redis: or rediss: (value hidden)',
    );
  });

  it('reads its own settings', () => {
    expect(
      load({ ESSAY_REDELIVERY_INTERVAL_MS: '5000', ESSAY_ANALYSIS_DELAY_MS: '250' }),
    ).toMatchObject({
      ESSAY_REDELIVERY_INTERVAL_MS: 5000,
      ESSAY_ANALYSIS_DELAY_MS: 250,
    });
  });

  it.each([
    [
      'ESSAY_REDELIVERY_INTERVAL_MS',
      '999',
      'must be an integer number of milliseconds, 1000 or more',
    ],
    ['ESSAY_ANALYSIS_DELAY_MS', '-1', 'must be an integer number of milliseconds, 0 or more'],
  ])('refuses %s=%j', (setting, value, reason) => {
    expect(problemsOf({ [setting]: value })).toContain(
      `  - ${setting}: ${reason} (got ${JSON.stringify(value)})`,
    );
  });

  it('masks the database password in the settings it logs', () => {
    const logged = redactSettings(load({ DATABASE_URL: 'postgres://app:Pg5ecret@db:5432/essays' }));

    expect(logged.DATABASE_URL).toBe('postgres://app:***@db:5432/essays');
  });
});
