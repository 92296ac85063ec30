// The public API of `nestjs-production-readiness`, each name documented in
// docs/api.md (test/docs/public-api.spec.ts keeps the two equal). Everything
// else is internal: reachable through ProductionReadinessModule, not by import.

// The one import, and starting an app with it.
export { ProductionReadinessModule } from './production-readiness.module.js';
export { PRODUCTION_READINESS_OPTIONS } from './production-readiness.module-definition.js';
export type {
  ProductionReadinessConcernOptions,
  ProductionReadinessOptions,
} from './production-readiness.options.js';
export { bootstrapService, createServiceApp, type ServiceAppOptions } from './bootstrap/index.js';

// Each concern's module, to use alone, and its options.
export {
  BaseServiceConfig,
  isConfigValidationError,
  IsHostPortList,
  IsServiceUrl,
  loadConfig,
  redactSettings,
  SecretSetting,
  ServiceConfigModule,
  ToBoolean,
  ToInteger,
  ToList,
  type ServiceConfigOptions,
} from './config/index.js';
export { CORRELATION_ID_HEADER, RequestContext } from './context/index.js';
export { correlationIdOfRequest, HttpPipelineModule, type HttpOptions } from './http/index.js';
export type { ServerLimitsOptions } from './http/index.js';
export {
  createLogDestination,
  LOGGING_OPTIONS,
  LoggingModule,
  ServiceLogger,
  type LoggingOptions,
} from './logging/index.js';
export {
  ErrorCode,
  ErrorsModule,
  isServiceError,
  ProblemExceptionFilter,
  ServiceError,
  type ErrorsOptions,
  type ProblemDetails,
} from './errors/index.js';
export {
  diskSpaceCheck,
  fromTerminusIndicator,
  HealthModule,
  ReadinessService,
  type CheckVerdict,
  type DependencyCheck,
  type HealthOptions,
} from './health/index.js';
export {
  InjectMetric,
  makeCounterProvider,
  makeGaugeProvider,
  makeHistogramProvider,
  makeSummaryProvider,
  MetricsModule,
  MetricsRegistry,
  type MetricsOptions,
} from './metrics/index.js';
export {
  ApiKeyGuard,
  Public,
  SecurityModule,
  type GuardedRequest,
  type SecurityOptions,
} from './security/index.js';
export { GracefulShutdown, ShutdownModule, type ShutdownOptions } from './shutdown/index.js';
export {
  NeverShed,
  OverloadModule,
  OverloadProtection,
  type OverloadOptions,
} from './overload/index.js';
export {
  isTransientError,
  ResilienceModule,
  ResiliencePolicies,
  Resilient,
  type ExecuteOptions,
  type ResilienceOptions,
  type ResiliencePolicyOptions,
} from './resilience/index.js';
export {
  HttpClient,
  HttpClientModule,
  type HttpClientOptions,
  type HttpRequestOptions,
} from './http-client/index.js';
export { MessageBus, startMessageConsumers, type MessagingOptions } from './messaging/index.js';
export { RedisConnection, RedisModule } from './redis/index.js';
export { isTracingActive, startTracing, traceDatabaseQueries } from './tracing/index.js';
export { StartupRefusedError, StartupReportModule } from './startup-report/index.js';
