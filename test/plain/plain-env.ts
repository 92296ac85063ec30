import { randomBytes } from 'node:crypto';

// The base config asks for nothing: SERVICE_NAME is set only so this run's
// failed-authentication counts in the local Redis have keys of their own.
export const RUN = randomBytes(4).toString('hex');

/** The environment of the plain app in tests. */
export const PLAIN_ENV: Record<string, string | undefined> = {
  SERVICE_NAME: `plain-app-${RUN}`,
  ENVIRONMENT: 'test',
  REDIS_URL: 'redis://127.0.0.1:6379',
  API_KEYS: undefined,
  CORS_ORIGINS: 'https://app.example.com',
  METRICS_PORT: undefined,
};
