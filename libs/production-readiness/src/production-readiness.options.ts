import type { ServiceConfigClass } from './config/base-service.config.js';
import type { ErrorsOptions } from './errors/errors.options.js';
import type { HealthOptions, HealthPaths } from './health/health.options.js';
import type { HttpClientOptions } from './http-client/http-client.options.js';
import type { HttpOptions } from './http/http.options.js';
import type { LoggingOptions } from './logging/logging.options.js';
import type { MetricsOptions } from './metrics/metrics.options.js';
import type { MessagingOptions } from './messaging/messaging.options.js';
import type { OverloadOptions } from './overload/overload.options.js';
import type { ResilienceOptions } from './resilience/resilience.options.js';
import type { SecurityOptions } from './security/security.options.js';
import type { ShutdownOptions } from './shutdown/shutdown.options.js';

/**
 * The options of ProductionReadinessModule that may come from forRootAsync()'s
 * factory; each concern's options are derived from these.
 */
export interface ProductionReadinessConcernOptions {
  /**
   * The HTTP server: the body limit, content types besides JSON, the raw
   * body, and the Node server's timeouts and header limit. @default {}
   */
  http?: HttpOptions;
  /** JSON logs: destination, access log, quiet paths, extra redaction. @default {} */
  logging?: LoggingOptions;
  /** problem+json errors and the global ValidationPipe. @default {} */
  errors?: ErrorsOptions;
  /** Probe timeouts, caching, extra and optional checks. @default {} */
  health?: HealthOptions;
  /** Prometheus metrics (METRICS_ENABLED turns them off). @default {} */
  metrics?: MetricsOptions;
  /** API keys, failed-authentication limits, CORS answers, security headers. @default {} */
  security?: SecurityOptions;
  /** Graceful shutdown: signals, cleanup timeout (budgets are SHUTDOWN_*_MS settings). @default {} */
  shutdown?: ShutdownOptions;
  /** Named resilience policies (timeouts, retries, circuit breakers, bulkheads) per dependency. @default {} */
  resilience?: ResilienceOptions;
  /** The outbound HTTP client: pool settings and the policy of each origin. @default {} */
  httpClient?: HttpClientOptions;
  /**
   * Overload protection: the adaptive concurrency limit past which requests
   * are shed (OVERLOAD_PROTECTION_ENABLED turns it off). @default {}
   */
  overload?: OverloadOptions;
}

/** Options fixed when the module is declared, because they decide its providers. */
export interface ProductionReadinessExtras {
  /**
   * The app's config class (a subclass of BaseServiceConfig), injectable by its class.
   * @default BaseServiceConfig
   */
  config: ServiceConfigClass;
  /**
   * The probe paths, when not the contract's /livez, /readyz, /healthz, /startupz.
   * @default {}
   */
  healthPaths: Partial<HealthPaths>;
  /** The metrics exposition path. @default '/metrics' */
  metricsPath: string;
  /**
   * The `.env` file to read; `false` reads none. Real environment variables win.
   * @default '.env'
   */
  envFilePath: string | false;
  /**
   * The environment to read instead of `process.env` (tests, embedding).
   * @default process.env
   */
  env: Record<string, string | undefined> | undefined;
  /**
   * The message bus: `true` or options to connect the app's `@EventPattern`
   * handlers and publish through Kafka, NATS, RabbitMQ or the in-process bus.
   * Fixed at declaration because it decides whether `@nestjs/microservices`
   * is loaded at all. @default false
   */
  messaging: boolean | MessagingOptions;
}

export function messagingOptionsFrom(messaging: boolean | MessagingOptions): MessagingOptions {
  return typeof messaging === 'boolean' ? { enabled: messaging } : messaging;
}

/** Everything `ProductionReadinessModule.forRoot()` takes; every option has a default. */
export type ProductionReadinessOptions = ProductionReadinessConcernOptions &
  Partial<ProductionReadinessExtras>;
