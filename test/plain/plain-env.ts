import { randomBytes } from 'node:crypto';

// The base config still asks for PORT and REDIS_URL: the local Redis holds
// the failed-authentication counts, under a service name of this run's own.
export const RUN = randomBytes(4).toString('hex');

/** The environment of the plain app in tests. */
export const PLAIN_ENV: Record<string, string | undefined> = {
  SERVICE_NAME: `plain-app-${RUN}`,
  PORT: '3000',
  SERVICE_VERSION: '1.0.0',
  ENVIRONMENT: 'test',
  DATABASE_URL: 'sqlite::memory:',
  KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:9',
  KAFKA_GROUP_ID: 'plain',
  REDIS_URL: 'redis://127.0.0.1:6379',
  API_KEYS: undefined,
  CORS_ORIGINS: 'https://app.example.com',
  METRICS_PORT: undefined,
};
