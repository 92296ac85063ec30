export * from './bootstrap/index.js';
export * from './config/index.js';
export * from './context/index.js';
export * from './errors/index.js';
export * from './health/index.js';
export * from './http/index.js';
export * from './http-client/index.js';
export * from './logging/index.js';
export * from './messaging/index.js';
export * from './metrics/index.js';
export * from './overload/index.js';
export * from './redis/index.js';
export * from './readiness-report/index.js';
export * from './resilience/index.js';
export * from './shutdown/index.js';
export * from './security/index.js';
export * from './tracing/index.js';
export { ProductionReadinessModule } from './production-readiness.module.js';
export { PRODUCTION_READINESS_OPTIONS } from './production-readiness.module-definition.js';
export type {
  ProductionReadinessConcernOptions,
  ProductionReadinessExtras,
  ProductionReadinessOptions,
} from './production-readiness.options.js';
