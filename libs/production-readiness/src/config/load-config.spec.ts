import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { IsInt, Min } from 'class-validator';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BaseServiceConfig, type LogLevel } from './base-service.config.js';
import { type ConfigValidationError, isConfigValidationError } from './config-validation.error.js';
import { loadConfig, settingNamesOf } from './load-config.js';
import { redactSettings } from './redaction.js';
import { SecretSetting } from './secret-setting.decorator.js';
import { ToInteger } from './setting-transforms.js';
import { IsServiceUrl } from './setting-validators.js';

type Env = Record<string, string | undefined>;
type ConfigClass = new () => object;

/** The standards document's essay-service environment, all valid. */
const STANDARD_ENV: Env = {
  SERVICE_NAME: 'essay-service',
  SERVICE_VERSION: '1.2.3',
  PORT: '8080',
  DATABASE_URL: 'postgres://app:db-pass-123@db.internal:5432/essays',
  KAFKA_BOOTSTRAP_SERVERS: 'kafka:9092',
  KAFKA_GROUP_ID: 'essays',
  REDIS_URL: 'redis://default:redis-pass-456@cache:6379/0',
};

function load(overrides: Env = {}): BaseServiceConfig {
  return loadConfig(BaseServiceConfig, {
    env: { ...STANDARD_ENV, ...overrides },
    envFilePath: false,
  });
}

function loadError(env: Env, configClass: ConfigClass = BaseServiceConfig): ConfigValidationError {
  try {
    loadConfig(configClass, { env, envFilePath: false });
  } catch (error) {
    if (isConfigValidationError(error)) return error;
    throw error;
  }
  throw new Error('loadConfig accepted an environment it should have refused');
}

/** The one reason given for `setting` when the required settings are valid and `overrides` applied. */
function reasonFor(setting: string, overrides: Env): string {
  const { problems } = loadError({ ...STANDARD_ENV, ...overrides });
  expect(problems.map((problem) => problem.setting)).toEqual([setting]);
  return problems[0].reason;
}

describe('loadConfig', () => {
  describe('PORT', () => {
    it.each([
      ['8080', 8080],
      [' 8080 ', 8080],
      ['1', 1],
      ['65535', 65535],
    ])('reads %j as %j', (text, port) => {
      expect(load({ PORT: text }).PORT).toBe(port);
    });

    it.each(['abc', '80.5', '70000', '0', '-1', '65536', '8080abc', '1e3'])(
      'refuses %j',
      (text) => {
        expect(reasonFor('PORT', { PORT: text })).toBe(
          `must be an integer from 1 to 65535 (got ${JSON.stringify(text)})`,
        );
      },
    );
  });

  describe('other integers', () => {
    it('reads pool sizes and timeouts', () => {
      expect(
        load({
          DATABASE_POOL_SIZE: '5',
          DATABASE_MAX_OVERFLOW: '0',
          REDIS_POOL_SIZE: '3',
          SHUTDOWN_TIMEOUT_MS: '0',
          SHUTDOWN_DRAIN_DELAY_MS: '2500',
        }),
      ).toMatchObject({
        DATABASE_POOL_SIZE: 5,
        DATABASE_MAX_OVERFLOW: 0,
        REDIS_POOL_SIZE: 3,
        SHUTDOWN_TIMEOUT_MS: 0,
        SHUTDOWN_DRAIN_DELAY_MS: 2500,
      });
    });

    it.each([
      ['DATABASE_POOL_SIZE', '0', 'must be an integer of at least 1'],
      ['DATABASE_MAX_OVERFLOW', '-1', 'must be an integer of at least 0'],
      ['REDIS_POOL_SIZE', 'ten', 'must be an integer of at least 1'],
      ['SHUTDOWN_TIMEOUT_MS', '2.5', 'must be an integer number of milliseconds, 0 or more'],
      ['SHUTDOWN_DRAIN_DELAY_MS', '-5', 'must be an integer number of milliseconds, 0 or more'],
    ])('refuses %s=%j', (setting, text, reason) => {
      expect(reasonFor(setting, { [setting]: text })).toBe(
        `${reason} (got ${JSON.stringify(text)})`,
      );
    });
  });

  describe('booleans', () => {
    it.each(['true', 'TRUE', 'True', '1', 'yes', 'YES', 'Yes', 'on'])(
      'reads %j as true',
      (text) => {
        expect(load({ METRICS_ENABLED: text, TRACING_ENABLED: text })).toMatchObject({
          METRICS_ENABLED: true,
          TRACING_ENABLED: true,
        });
      },
    );

    it.each(['false', 'FALSE', 'False', '0', 'no', 'NO', 'No', 'off'])(
      'reads %j as false',
      (text) => {
        expect(load({ METRICS_ENABLED: text, TRACING_ENABLED: text })).toMatchObject({
          METRICS_ENABLED: false,
          TRACING_ENABLED: false,
        });
      },
    );

    it.each(['maybe', '2', 'y'])('refuses %j and lists the accepted words', (text) => {
      expect(reasonFor('METRICS_ENABLED', { METRICS_ENABLED: text })).toBe(
        `must be one of true, 1, yes, on, false, 0, no, off (got ${JSON.stringify(text)})`,
      );
    });
  });

  describe('CORS_ORIGINS', () => {
    const origins = ['https://app.example.com', 'http://localhost:3000'];

    it('reads a comma-separated list', () => {
      expect(
        load({ CORS_ORIGINS: 'https://app.example.com, http://localhost:3000' }).CORS_ORIGINS,
      ).toEqual(origins);
    });

    it('reads a JSON array', () => {
      expect(
        load({ CORS_ORIGINS: '["https://app.example.com","http://localhost:3000"]' }).CORS_ORIGINS,
      ).toEqual(origins);
    });

    it.each([
      ['malformed JSON', '["https://app.example.com"'],
      ['a JSON array of non-strings', '[1, 2]'],
      ['an origin with a path', 'https://app.example.com/login'],
      ['a wildcard', '*'],
      ['a wildcard subdomain', 'https://*.example.com'],
      ['an origin without a scheme', 'app.example.com'],
      ['a scheme browsers do not send', 'ftp://files.example.com'],
      ['one bad entry among good ones', 'https://app.example.com,https://evil.example.com/x'],
    ])('refuses %s', (_case, text) => {
      expect(reasonFor('CORS_ORIGINS', { CORS_ORIGINS: text })).toBe(
        'must be a comma-separated list or JSON array of origins like https://app.example.com ' +
          `(scheme, host and optional port; no path, no wildcard) (got ${JSON.stringify(text)})`,
      );
    });
  });

  describe('LOG_LEVEL', () => {
    it.each([
      ['info', 'INFO'],
      ['warning', 'WARNING'],
      ['Debug', 'DEBUG'],
      [' error ', 'ERROR'],
      ['critical', 'CRITICAL'],
    ])('reads %j as %j', (text, level) => {
      expect(load({ LOG_LEVEL: text }).LOG_LEVEL).toBe(level);
    });

    it.each(['LOUD', 'warn', 'TRACE'])('refuses %j', (text) => {
      expect(reasonFor('LOG_LEVEL', { LOG_LEVEL: text })).toBe(
        `must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (got ${JSON.stringify(text)})`,
      );
    });
  });

  describe('KAFKA_AUTO_OFFSET_RESET', () => {
    it.each(['earliest', 'latest'])('reads %j', (text) => {
      expect(load({ KAFKA_AUTO_OFFSET_RESET: text }).KAFKA_AUTO_OFFSET_RESET).toBe(text);
    });

    it.each(['none', 'beginning'])('refuses %j', (text) => {
      expect(reasonFor('KAFKA_AUTO_OFFSET_RESET', { KAFKA_AUTO_OFFSET_RESET: text })).toBe(
        `must be earliest or latest (got ${JSON.stringify(text)})`,
      );
    });
  });

  describe('KAFKA_BOOTSTRAP_SERVERS', () => {
    it.each([
      'kafka:9092',
      'kafka-1:9092,kafka-2:9093',
      'localhost:9092, 10.0.0.5:9093',
      '[::1]:9092',
    ])('reads %j', (text) => {
      expect(load({ KAFKA_BOOTSTRAP_SERVERS: text }).KAFKA_BOOTSTRAP_SERVERS).toBe(text);
    });

    it.each([
      'kafka',
      'kafka:0',
      'kafka:65536',
      'kafka:port',
      'PLAINTEXT://kafka:9092',
      'kafka:9092;kafka:9093',
    ])('refuses %j', (text) => {
      expect(reasonFor('KAFKA_BOOTSTRAP_SERVERS', { KAFKA_BOOTSTRAP_SERVERS: text })).toBe(
        `must be a comma-separated list of host:port pairs (got ${JSON.stringify(text)})`,
      );
    });
  });

  describe('API_KEY_HEADER', () => {
    it('reads a header name', () => {
      expect(load({ API_KEY_HEADER: 'X-Service-Token' }).API_KEY_HEADER).toBe('X-Service-Token');
    });

    it.each(['X API Key', 'X-API-Key:', 'X-Key(1)'])('refuses %j', (text) => {
      expect(reasonFor('API_KEY_HEADER', { API_KEY_HEADER: text })).toBe(
        `must be a valid HTTP header name such as X-API-Key (got ${JSON.stringify(text)})`,
      );
    });
  });

  describe('API_KEYS', () => {
    const hash = `sha256:${'0123456789abcdef'.repeat(4)}`;

    it('reads plain keys of 16 characters or more and sha256 hashes', () => {
      expect(
        load({ API_KEYS: `abcdefghijklmnop, ${hash},${hash.toUpperCase()}` }).API_KEYS,
      ).toEqual(['abcdefghijklmnop', hash, hash.toUpperCase()]);
    });

    it.each([
      ['a key of 15 characters', 'abcdefghijklmno'],
      ['a key with a space', '["abcdefgh ijklmnop"]'],
      ['a hash one digit short', `sha256:${'a'.repeat(63)}`],
      ['a hash that is not hex', `sha256:${'g'.repeat(64)}`],
    ])('refuses %s without showing it', (_case, text) => {
      const reason = reasonFor('API_KEYS', { API_KEYS: `live-key-0123456789abcdef,${text}` });

      expect(reason).toBe(
        'must be a comma-separated list of keys, each either at least 16 printable characters ' +
          'without spaces or sha256:<64 hex digits> (value hidden)',
      );
    });
  });

  describe('URLs', () => {
    it.each([
      ['DATABASE_URL', 'postgresql://app@db:5432/essays'],
      ['REDIS_URL', 'rediss://cache.example.com:6380'],
      ['NATS_URL', 'nats://nats:4222'],
      ['NATS_URL', 'tls://nats.example.com:4222'],
      ['NATS_URL', 'nats://a:4222, nats://b:4222'],
      ['RABBITMQ_URL', 'amqp://guest:guest@rabbit:5672'],
      ['RABBITMQ_URL', 'amqps://rabbit.example.com'],
    ])('reads %s=%j', (setting, url) => {
      expect(load({ [setting]: url })).toMatchObject({ [setting]: url });
    });

    it.each([
      ['DATABASE_URL', 'essays on db.internal', 'must be a URL (scheme://host...)'],
      ['REDIS_URL', 'http://cache:6379', 'must be a URL starting with redis: or rediss:'],
      [
        'NATS_URL',
        'http://nats:4222',
        'must be a comma-separated list of URLs starting with nats: or tls:',
      ],
      [
        'NATS_URL',
        'nats://a:4222,http://b:4222',
        'must be a comma-separated list of URLs starting with nats: or tls:',
      ],
      ['RABBITMQ_URL', 'redis://rabbit:5672', 'must be a URL starting with amqp: or amqps:'],
    ])('refuses %s=%j', (setting, url, reason) => {
      expect(reasonFor(setting, { [setting]: url })).toBe(`${reason} (value hidden)`);
    });

    it('leaves NATS_URL and RABBITMQ_URL unset when not given', () => {
      const config = load();

      expect(config.NATS_URL).toBeUndefined();
      expect(config.RABBITMQ_URL).toBeUndefined();
    });
  });

  describe('required settings', () => {
    let dir: string;
    let cwd: string;

    beforeEach(() => {
      cwd = process.cwd();
      dir = mkdtempSync(join(tmpdir(), 'load-config-app-'));
      process.chdir(dir);
    });

    afterEach(() => {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    });

    it('needs none in an app with a package.json: name, version and defaults for the rest', () => {
      writeFileSync(join(dir, 'package.json'), '{ "name": "@acme/orders", "version": "2.0.1" }');

      expect(loadConfig(BaseServiceConfig, { env: {}, envFilePath: false })).toMatchObject({
        SERVICE_NAME: 'orders',
        SERVICE_VERSION: '2.0.1',
        PORT: 3000,
        DATABASE_URL: undefined,
        REDIS_URL: undefined,
        KAFKA_BOOTSTRAP_SERVERS: undefined,
        KAFKA_GROUP_ID: undefined,
      });
    });

    it('lets the environment name and version the service over package.json', () => {
      writeFileSync(join(dir, 'package.json'), '{ "name": "orders", "version": "2.0.1" }');

      expect(
        loadConfig(BaseServiceConfig, {
          env: { SERVICE_NAME: 'orders-eu', SERVICE_VERSION: '2.0.2' },
          envFilePath: false,
        }),
      ).toMatchObject({ SERVICE_NAME: 'orders-eu', SERVICE_VERSION: '2.0.2' });
    });

    it('asks for SERVICE_NAME and SERVICE_VERSION, and only those, without a package.json', () => {
      const error = loadError({});

      expect(error.configName).toBe('BaseServiceConfig');
      expect(error.problems).toEqual([
        { setting: 'SERVICE_NAME', reason: 'is required but not set' },
        { setting: 'SERVICE_VERSION', reason: 'is required but not set' },
      ]);
      expect(error.message).toBe(
        [
          'Invalid configuration for BaseServiceConfig: 2 problems',
          '  - SERVICE_NAME: is required but not set',
          '  - SERVICE_VERSION: is required but not set',
          'Set these environment variables (or put them in .env) and start again.',
        ].join('\n'),
      );
    });

    it('reports missing and invalid settings together', () => {
      const error = loadError({
        SERVICE_VERSION: '1.0.0',
        PORT: 'abc',
        LOG_LEVEL: 'LOUD',
        METRICS_ENABLED: 'maybe',
      });

      expect(error.message).toContain('Invalid configuration for BaseServiceConfig: 4 problems\n');
      expect(error.message).toContain('  - SERVICE_NAME: is required but not set\n');
      expect(error.message).toContain('  - PORT: must be an integer from 1 to 65535 (got "abc")\n');
      expect(error.message).toContain(
        '  - LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (got "LOUD")\n',
      );
      expect(error.message).toContain('  - METRICS_ENABLED: must be one of');
    });

    it('says "1 problem" for a single one', () => {
      expect(loadError({ ...STANDARD_ENV, PORT: 'abc' }).message).toMatch(
        /^Invalid configuration for BaseServiceConfig: 1 problem\n/,
      );
    });

    it('is a ConfigValidationError by name and by brand', () => {
      const error = loadError({});

      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('ConfigValidationError');
      expect(isConfigValidationError(error)).toBe(true);
      expect(isConfigValidationError(new Error(error.message))).toBe(false);
    });
  });

  describe('defaults', () => {
    it('applies the standards document defaults to every unset optional setting', () => {
      expect(load()).toMatchObject({
        SERVICE_NAME: 'essay-service',
        SERVICE_VERSION: '1.2.3',
        ENVIRONMENT: 'production',
        HOST: '0.0.0.0',
        PORT: 8080,
        DATABASE_URL: STANDARD_ENV.DATABASE_URL,
        DATABASE_POOL_SIZE: 10,
        DATABASE_MAX_OVERFLOW: 20,
        KAFKA_BOOTSTRAP_SERVERS: 'kafka:9092',
        KAFKA_GROUP_ID: 'essays',
        KAFKA_AUTO_OFFSET_RESET: 'earliest',
        NATS_URL: undefined,
        RABBITMQ_URL: undefined,
        REDIS_URL: STANDARD_ENV.REDIS_URL,
        REDIS_POOL_SIZE: 10,
        LOG_LEVEL: 'INFO',
        METRICS_ENABLED: true,
        TRACING_ENABLED: true,
        CORS_ORIGINS: [],
        API_KEY_HEADER: 'X-API-Key',
        API_KEYS: [],
        SHUTDOWN_TIMEOUT_MS: 25_000,
        SHUTDOWN_DRAIN_DELAY_MS: undefined,
      });
    });

    it('treats an empty or blank value as unset', () => {
      expect(
        load({ LOG_LEVEL: '', METRICS_ENABLED: '   ', CORS_ORIGINS: '', DATABASE_POOL_SIZE: '\t' }),
      ).toMatchObject({
        LOG_LEVEL: 'INFO',
        METRICS_ENABLED: true,
        CORS_ORIGINS: [],
        DATABASE_POOL_SIZE: 10,
      });
    });

    it('reads an empty setting as unset: its default applies', () => {
      expect(load({ PORT: '', SERVICE_NAME: '  ' })).toMatchObject({
        PORT: 3000,
        SERVICE_NAME: 'nestjs-production-readiness-monorepo',
      });
    });

    it('ignores environment variables that are not settings', () => {
      expect(load({ NODE_ENV: 'test', HOME: '/root' })).not.toHaveProperty('NODE_ENV');
    });
  });

  describe('sources', () => {
    let dir: string;

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'load-config-'));
    });

    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
      vi.unstubAllEnvs();
    });

    function writeEnvFile(lines: string[]): string {
      const path = join(dir, '.env');
      writeFileSync(path, `${lines.join('\n')}\n`);
      return path;
    }

    it('reads the .env file', () => {
      const envFilePath = writeEnvFile(
        Object.entries(STANDARD_ENV).map(([name, value]) => `${name}=${value}`),
      );

      expect(loadConfig(BaseServiceConfig, { env: {}, envFilePath })).toMatchObject({
        SERVICE_NAME: 'essay-service',
        PORT: 8080,
        REDIS_URL: STANDARD_ENV.REDIS_URL,
      });
    });

    it('lets a real environment variable win over the .env file', () => {
      const envFilePath = writeEnvFile([
        'PORT=9000',
        'LOG_LEVEL=debug',
        '# a comment',
        'SERVICE_NAME="from-file"',
      ]);

      const config = loadConfig(BaseServiceConfig, {
        env: { ...STANDARD_ENV, PORT: undefined, SERVICE_NAME: 'from-env' },
        envFilePath,
      });

      expect(config).toMatchObject({ PORT: 9000, LOG_LEVEL: 'DEBUG', SERVICE_NAME: 'from-env' });
    });

    it('resolves a relative .env path against the working directory', () => {
      const envFilePath = relative(process.cwd(), writeEnvFile(['PORT=9001']));

      expect(
        loadConfig(BaseServiceConfig, { env: { ...STANDARD_ENV, PORT: undefined }, envFilePath })
          .PORT,
      ).toBe(9001);
    });

    it('reports an invalid value from the .env file like one from the environment', () => {
      const envFilePath = writeEnvFile(['PORT=eighty']);

      expect(() =>
        loadConfig(BaseServiceConfig, { env: { ...STANDARD_ENV, PORT: undefined }, envFilePath }),
      ).toThrow('  - PORT: must be an integer from 1 to 65535 (got "eighty")');
    });

    it('does not mind a missing .env file', () => {
      const envFilePath = join(dir, 'missing.env');

      expect(loadConfig(BaseServiceConfig, { env: STANDARD_ENV, envFilePath }).PORT).toBe(8080);
    });

    it('reads process.env when no environment is given', () => {
      for (const [name, value] of Object.entries(STANDARD_ENV)) vi.stubEnv(name, value);
      vi.stubEnv('LOG_LEVEL', 'warning');

      expect(loadConfig(BaseServiceConfig, { envFilePath: false })).toMatchObject({
        PORT: 8080,
        LOG_LEVEL: 'WARNING',
      });
    });
  });

  describe('secrets', () => {
    const secrets = [
      'S3cretPassw0rd',
      'redis-pass-456',
      'rabbit-pass-789',
      'live-key-0123456789abcdef',
    ];

    it('keeps secret values out of the error message while naming their settings', () => {
      const error = loadError({
        ...STANDARD_ENV,
        DATABASE_URL: 'mysql//app:S3cretPassw0rd@db.internal:3306/essays',
        REDIS_URL: 'http://:redis-pass-456@cache:6379',
        RABBITMQ_URL: 'rabbit://guest:rabbit-pass-789@rabbit:5672',
        API_KEYS: 'live-key-0123456789abcdef,short',
      });

      expect(error.problems.map((problem) => problem.setting)).toEqual([
        'DATABASE_URL',
        'RABBITMQ_URL',
        'REDIS_URL',
        'API_KEYS',
      ]);
      for (const secret of secrets) {
        expect(error.message).not.toContain(secret);
        expect(JSON.stringify(error.problems)).not.toContain(secret);
      }
      expect(error.message).toContain('(value hidden)');
    });

    it('keeps a valid secret out of an error about another setting', () => {
      const error = loadError({
        ...STANDARD_ENV,
        DATABASE_URL: 'postgres://app:S3cretPassw0rd@db:5432/essays',
        PORT: 'abc',
      });

      expect(error.message).not.toContain('S3cretPassw0rd');
    });

    it('masks secrets for logging and keeps host and user visible', () => {
      const logged = redactSettings(
        load({
          DATABASE_URL: 'postgres://app:S3cretPassw0rd@db.internal:5432/essays',
          API_KEYS: 'live-key-0123456789abcdef',
        }),
      );

      expect(JSON.stringify(logged)).not.toMatch(
        /S3cretPassw0rd|redis-pass-456|live-key-0123456789abcdef/,
      );
      expect(logged).toMatchObject({
        DATABASE_URL: 'postgres://app:***@db.internal:5432/essays',
        REDIS_URL: 'redis://default:***@cache:6379/0',
        API_KEYS: ['***'],
      });
    });
  });

  describe('the result', () => {
    it('is frozen', () => {
      const config = load();

      expect(Object.isFrozen(config)).toBe(true);
      expect(() => {
        (config as { PORT: number }).PORT = 1;
      }).toThrow(TypeError);
    });

    it('has frozen lists, so no module can add an origin or a key at run time', () => {
      const config = load({
        CORS_ORIGINS: 'https://app.example.com',
        API_KEYS: 'live-key-0123456789abcdef',
      });

      expect(() => config.CORS_ORIGINS.push('https://evil.example.com')).toThrow(TypeError);
      expect(() => config.API_KEYS.push('attacker-key-0123456789')).toThrow(TypeError);
    });

    it('is an instance of the config class', () => {
      expect(load()).toBeInstanceOf(BaseServiceConfig);
    });
  });

  describe('a subclass', () => {
    class WorkerConfig extends BaseServiceConfig {
      override PORT = 9090;
      override LOG_LEVEL: LogLevel = 'DEBUG';
      override KAFKA_AUTO_OFFSET_RESET: 'earliest' | 'latest' = 'latest';

      @ToInteger()
      @IsInt({ message: 'must be an integer of at least 1' })
      @Min(1, { message: 'must be an integer of at least 1' })
      BATCH_SIZE = 50;

      @SecretSetting()
      @IsServiceUrl(['https'])
      WEBHOOK_URL!: string;
    }

    const env: Env = {
      ...STANDARD_ENV,
      PORT: undefined,
      WEBHOOK_URL: 'https://hooks:hook-secret-42@hooks.example.com/in',
    };

    it('uses its own defaults for the settings it overrides', () => {
      expect(loadConfig(WorkerConfig, { env, envFilePath: false })).toMatchObject({
        PORT: 9090,
        LOG_LEVEL: 'DEBUG',
        KAFKA_AUTO_OFFSET_RESET: 'latest',
        BATCH_SIZE: 50,
        DATABASE_POOL_SIZE: 10,
      });
    });

    it('lets the environment override its defaults', () => {
      expect(
        loadConfig(WorkerConfig, {
          env: { ...env, PORT: '7000', LOG_LEVEL: 'error', BATCH_SIZE: '200' },
          envFilePath: false,
        }),
      ).toMatchObject({ PORT: 7000, LOG_LEVEL: 'ERROR', BATCH_SIZE: 200 });
    });

    it('validates its extra settings together with the inherited ones', () => {
      const error = loadError(
        { ...env, WEBHOOK_URL: undefined, BATCH_SIZE: '0', LOG_LEVEL: 'LOUD' },
        WorkerConfig,
      );

      expect(error.configName).toBe('WorkerConfig');
      expect(error.problems).toHaveLength(3);
      expect(error.problems).toEqual(
        expect.arrayContaining([
          {
            setting: 'LOG_LEVEL',
            reason: 'must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (got "LOUD")',
          },
          { setting: 'BATCH_SIZE', reason: 'must be an integer of at least 1 (got "0")' },
          { setting: 'WEBHOOK_URL', reason: 'is required but not set' },
        ]),
      );
    });

    it('keeps its own secret settings secret', () => {
      const error = loadError(
        { ...env, WEBHOOK_URL: 'http://hooks:hook-secret-42@hooks.example.com/in' },
        WorkerConfig,
      );
      const logged = redactSettings(loadConfig(WorkerConfig, { env, envFilePath: false }));

      expect(error.message).toContain(
        '  - WEBHOOK_URL: must be a URL starting with https: (value hidden)',
      );
      expect(error.message).not.toContain('hook-secret-42');
      expect(logged.WEBHOOK_URL).toBe('https://hooks:***@hooks.example.com/in');
      expect(logged.DATABASE_URL).toBe('postgres://app:***@db.internal:5432/essays');
    });

    it('declares its settings and the inherited ones', () => {
      expect(settingNamesOf(WorkerConfig)).toEqual(
        expect.arrayContaining([...Object.keys(STANDARD_ENV), 'BATCH_SIZE', 'WEBHOOK_URL']),
      );
    });
  });
});
