import type { Type } from '@nestjs/common';
import {
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Max,
  Min,
  IsBoolean,
} from 'class-validator';
import { appPackage } from './app-package.js';
import { SecretSetting } from './secret-setting.decorator.js';
import {
  IsApiKeyList,
  IsHeaderName,
  IsHostPortList,
  IsOriginList,
  IsServiceUrl,
} from './setting-validators.js';
import {
  BOOLEAN_WORDS,
  ToBoolean,
  ToInteger,
  ToList,
  ToLowerCase,
  ToUpperCase,
} from './setting-transforms.js';

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const BOOLEAN_MESSAGE = `must be one of ${BOOLEAN_WORDS.join(', ')}`;

/**
 * Every setting of the production-readiness standards document, read from the
 * environment (and `.env`). Each has a default or is optional, so a service
 * without a database, Redis or a broker needs none of theirs; SERVICE_NAME
 * and SERVICE_VERSION default to the app's package.json. Apps extend it, add
 * their own settings, give defaults by overriding a property, and inject
 * their subclass by its class:
 *
 * ```ts
 * export class OrdersConfig extends BaseServiceConfig {
 *   override DATABASE_URL = 'postgres://localhost:5432/orders';
 *
 *   @IsServiceUrl(['https'])
 *   PAYMENTS_URL = 'https://payments.internal';
 * }
 * ```
 */
export class BaseServiceConfig {
  /**
   * The service's name, on every log line and metric.
   * @default the `name` in ./package.json, without its scope (required when there is none)
   */
  @IsString()
  @IsNotEmpty()
  SERVICE_NAME: string = appPackage().name!;

  /**
   * The deployed version.
   * @default the `version` in ./package.json (required when there is none)
   */
  @IsString()
  @IsNotEmpty()
  SERVICE_VERSION: string = appPackage().version!;

  /** Deployment environment (`production`, `staging`, `development`...). @default 'production' */
  @IsString()
  @IsNotEmpty()
  ENVIRONMENT = 'production';

  /** Address to listen on. @default '0.0.0.0' */
  @IsString()
  @IsNotEmpty()
  HOST = '0.0.0.0';

  /** Port to listen on, 1..65535 (Nest's own default). @default 3000 */
  @ToInteger()
  @IsInt({ message: 'must be an integer from 1 to 65535' })
  @Min(1, { message: 'must be an integer from 1 to 65535' })
  @Max(65535, { message: 'must be an integer from 1 to 65535' })
  PORT = 3000;

  /** Database connection URL; its password is never printed. Optional. */
  @IsOptional()
  @SecretSetting()
  @IsServiceUrl()
  DATABASE_URL?: string;

  /** Connections kept in the database pool. @default 10 */
  @ToInteger()
  @IsInt({ message: 'must be an integer of at least 1' })
  @Min(1, { message: 'must be an integer of at least 1' })
  DATABASE_POOL_SIZE = 10;

  /** Extra connections the pool may open under load, above DATABASE_POOL_SIZE. @default 20 */
  @ToInteger()
  @IsInt({ message: 'must be an integer of at least 0' })
  @Min(0, { message: 'must be an integer of at least 0' })
  DATABASE_MAX_OVERFLOW = 20;

  /**
   * How long a query waits for a pool connection (opening one included) before
   * failing, in milliseconds: node-postgres waits forever by default. A query
   * that fails so is answered 503 with Retry-After. @default 2000
   */
  @ToInteger()
  @IsInt({ message: 'must be an integer number of milliseconds, 1 or more' })
  @Min(1, { message: 'must be an integer number of milliseconds, 1 or more' })
  DATABASE_ACQUIRE_TIMEOUT_MS = 2_000;

  /**
   * The longest one SQL statement may run, in milliseconds (PostgreSQL's
   * statement_timeout); 0 for no limit. The client gives up 1 s after it too
   * (node-postgres' query_timeout), for when the server's answer never comes
   * (packets lost, a frozen server). Either way the request gets 503 with
   * Retry-After. @default 5000
   */
  @ToInteger()
  @IsInt({ message: 'must be an integer number of milliseconds, 0 or more' })
  @Min(0, { message: 'must be an integer number of milliseconds, 0 or more' })
  DATABASE_STATEMENT_TIMEOUT_MS = 5_000;

  /** Kafka brokers as `host:port,host:port`. Optional: the message bus uses Kafka when set. */
  @IsOptional()
  @IsHostPortList()
  KAFKA_BOOTSTRAP_SERVERS?: string;

  /** Kafka consumer group. @default SERVICE_NAME (when Kafka is used) */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  KAFKA_GROUP_ID?: string;

  /** Where a new consumer group starts reading: `earliest` or `latest`. @default 'earliest' */
  @ToLowerCase()
  @IsIn(['earliest', 'latest'], { message: 'must be earliest or latest' })
  KAFKA_AUTO_OFFSET_RESET: 'earliest' | 'latest' = 'earliest';

  /** NATS server URL(s), `nats://host:4222`, comma-separated for a cluster. Optional: the message bus uses NATS when set. */
  @IsOptional()
  @SecretSetting()
  @IsServiceUrl(['nats', 'tls'], { commaSeparated: true })
  NATS_URL?: string;

  /** RabbitMQ URL, `amqp://user:pass@host:5672`. Optional: the message bus uses RabbitMQ when set. */
  @IsOptional()
  @SecretSetting()
  @IsServiceUrl(['amqp', 'amqps'])
  RABBITMQ_URL?: string;

  /** Redis URL; its password is never printed. Optional: without it nothing uses Redis. */
  @IsOptional()
  @SecretSetting()
  @IsServiceUrl(['redis', 'rediss'])
  REDIS_URL?: string;

  /** Connections kept to Redis. @default 10 */
  @ToInteger()
  @IsInt({ message: 'must be an integer of at least 1' })
  @Min(1, { message: 'must be an integer of at least 1' })
  REDIS_POOL_SIZE = 10;

  /**
   * How long one Redis command may take before it fails, in milliseconds:
   * ioredis has no command timeout by default. @default 2000
   */
  @ToInteger()
  @IsInt({ message: 'must be an integer number of milliseconds, 1 or more' })
  @Min(1, { message: 'must be an integer number of milliseconds, 1 or more' })
  REDIS_COMMAND_TIMEOUT_MS = 2_000;

  /** DEBUG, INFO, WARNING, ERROR or CRITICAL, any case. @default 'INFO' */
  @ToUpperCase()
  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: LogLevel = 'INFO';

  /** Serve Prometheus metrics at /metrics. @default true */
  @ToBoolean()
  @IsBoolean({ message: BOOLEAN_MESSAGE })
  METRICS_ENABLED = true;

  /** Serve /metrics on this port instead of PORT (e.g. to keep it off the public listener). Optional. */
  @IsOptional()
  @ToInteger()
  @IsInt({ message: 'must be an integer from 1 to 65535' })
  @Min(1, { message: 'must be an integer from 1 to 65535' })
  @Max(65535, { message: 'must be an integer from 1 to 65535' })
  METRICS_PORT?: number;

  /** Export OpenTelemetry traces. @default true */
  @ToBoolean()
  @IsBoolean({ message: BOOLEAN_MESSAGE })
  TRACING_ENABLED = true;

  /**
   * Shed load past capacity: 503 OVERLOADED before any work for a request
   * over the adaptive concurrency limit (the `overload` options tune it).
   * @default true
   */
  @ToBoolean()
  @IsBoolean({ message: BOOLEAN_MESSAGE })
  OVERLOAD_PROTECTION_ENABLED = true;

  /** Browser origins allowed to call the API: a comma list or a JSON array. @default [] */
  @ToList()
  @IsOriginList()
  CORS_ORIGINS: string[] = [];

  /** The request header that carries the API key. @default 'X-API-Key' */
  @IsHeaderName()
  API_KEY_HEADER = 'X-API-Key';

  /** Accepted API keys, comma-separated; an entry may be `sha256:<hex>`. Never printed. @default [] */
  @SecretSetting()
  @ToList()
  @IsApiKeyList()
  API_KEYS: string[] = [];

  /**
   * The longest startup may take (config, connections, migrations, listen),
   * in milliseconds; past it the process exits 1, naming the wait. Keep the
   * startup probe's failureThreshold × periodSeconds above it. @default 60000
   */
  @ToInteger()
  @IsInt({ message: 'must be an integer number of milliseconds, 1 or more' })
  @Min(1, { message: 'must be an integer number of milliseconds, 1 or more' })
  STARTUP_TIMEOUT_MS = 60_000;

  /** Budget for the whole graceful shutdown, in milliseconds. @default 25000 */
  @ToInteger()
  @IsInt({ message: 'must be an integer number of milliseconds, 0 or more' })
  @Min(0, { message: 'must be an integer number of milliseconds, 0 or more' })
  SHUTDOWN_TIMEOUT_MS = 25_000;

  /**
   * How long to keep serving after SIGTERM so load balancers stop sending
   * traffic, in milliseconds. Unset means 5000 in Kubernetes (where
   * KUBERNETES_SERVICE_HOST is set) and 0 anywhere else, so `nest start
   * --watch` reloads and Ctrl-C exit at once; set it on other platforms
   * behind a load balancer (ECS, Nomad, compose).
   */
  @IsOptional()
  @ToInteger()
  @IsInt({ message: 'must be an integer number of milliseconds, 0 or more' })
  @Min(0, { message: 'must be an integer number of milliseconds, 0 or more' })
  SHUTDOWN_DRAIN_DELAY_MS?: number;

  /**
   * The time the platform gives between SIGTERM and SIGKILL (Kubernetes'
   * terminationGracePeriodSeconds, compose's stop_grace_period), in
   * milliseconds. Startup warns when the drain delay plus SHUTDOWN_TIMEOUT_MS
   * does not fit in it. @default 30000
   */
  @ToInteger()
  @IsInt({ message: 'must be an integer number of milliseconds, 0 or more' })
  @Min(0, { message: 'must be an integer number of milliseconds, 0 or more' })
  SHUTDOWN_GRACE_PERIOD_MS = 30_000;

  /**
   * Refuse to start (exit 1) when the production-readiness report logged at
   * startup finds a risk: no API keys, a shutdown budget beyond the grace
   * period, a pool above the database's connection limit, a dependency
   * without a timeout, a heap limit above the container's memory. Off, the
   * risks are only warnings. @default false
   */
  @ToBoolean()
  @IsBoolean({ message: BOOLEAN_MESSAGE })
  STRICT_READINESS = false;
}

/** A config class: BaseServiceConfig or a subclass of it. */
export type ServiceConfigClass = Type<Partial<BaseServiceConfig>>;

/** Fails fast, at module declaration, for a class that does not extend BaseServiceConfig. */
export function assertServiceConfigClass(config: ServiceConfigClass): void {
  if (config !== BaseServiceConfig && !(config.prototype instanceof BaseServiceConfig)) {
    throw new TypeError(`${config.name} is not a config class: it must extend BaseServiceConfig.`);
  }
}
