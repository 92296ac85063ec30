import { describe, expect, it } from 'vitest';
import { BaseServiceConfig } from './base-service.config.js';
import { loadConfig } from './load-config.js';
import { redactSettings, redactUrlPassword } from './redaction.js';

describe('redactUrlPassword', () => {
  it('masks the password and keeps scheme, user, host, port and path', () => {
    expect(redactUrlPassword('postgres://app:db-pass-123@db.internal:5432/essays')).toBe(
      'postgres://app:***@db.internal:5432/essays',
    );
  });

  it('masks a password given without a user', () => {
    expect(redactUrlPassword('redis://:redis-pass-456@cache:6379/0')).toBe(
      'redis://:***@cache:6379/0',
    );
  });

  it('masks a percent-encoded password whole', () => {
    expect(redactUrlPassword('amqp://guest:p%40ss%3Aword@rabbit:5672')).toBe(
      'amqp://guest:***@rabbit:5672',
    );
  });

  it('leaves a URL without a password as it is', () => {
    expect(redactUrlPassword('nats://nats.internal:4222')).toBe('nats://nats.internal:4222');
  });

  it('hides a value that does not parse as a URL, since it may be the secret itself', () => {
    expect(redactUrlPassword('not a url but maybe a password')).toBe('***');
  });
});

describe('redactSettings', () => {
  const config = loadConfig(BaseServiceConfig, {
    env: {
      SERVICE_NAME: 'essay-service',
      SERVICE_VERSION: '1.2.3',
      PORT: '8080',
      DATABASE_URL: 'postgres://app:db-pass-123@db.internal:5432/essays',
      KAFKA_BOOTSTRAP_SERVERS: 'kafka:9092',
      KAFKA_GROUP_ID: 'essays',
      REDIS_URL: 'redis://default:redis-pass-456@cache:6379/0',
      RABBITMQ_URL: 'amqp://guest:rabbit-pass-789@rabbit:5672',
      API_KEYS: 'live-key-0123456789abcdef,sha256:' + 'ab'.repeat(32),
    },
    envFilePath: false,
  });

  it('keeps no secret value anywhere in its output', () => {
    const logged = JSON.stringify(redactSettings(config));

    for (const secret of [
      'db-pass-123',
      'redis-pass-456',
      'rabbit-pass-789',
      'live-key-0123456789abcdef',
      'ab'.repeat(32),
    ]) {
      expect(logged).not.toContain(secret);
    }
  });

  it('keeps the user, host, port and path of secret URLs visible', () => {
    expect(redactSettings(config)).toMatchObject({
      DATABASE_URL: 'postgres://app:***@db.internal:5432/essays',
      REDIS_URL: 'redis://default:***@cache:6379/0',
      RABBITMQ_URL: 'amqp://guest:***@rabbit:5672',
    });
  });

  it('masks every API key and keeps how many there are', () => {
    expect(redactSettings(config).API_KEYS).toEqual(['***', '***']);
  });

  it('shows settings that are not secret as they are, and unset secrets as unset', () => {
    expect(redactSettings(config)).toMatchObject({
      SERVICE_NAME: 'essay-service',
      PORT: 8080,
      KAFKA_BOOTSTRAP_SERVERS: 'kafka:9092',
      API_KEY_HEADER: 'X-API-Key',
    });
    expect(redactSettings(config).NATS_URL).toBeUndefined();
  });

  it('returns a new object and leaves the config as it was', () => {
    redactSettings(config);

    expect(config.DATABASE_URL).toBe('postgres://app:db-pass-123@db.internal:5432/essays');
  });
});
