export { HealthModule } from './health.module.js';
export { type HealthExtras } from './health.module-definition.js';
export {
  DEFAULT_HEALTH_PATHS,
  HEALTH_OPTIONS,
  type DependencyCheck,
  type HealthOptions,
  type HealthPaths,
  type HttpDependency,
} from './health.options.js';
export { HEALTH_CONTENT_TYPE, type CheckReport, type HealthReport } from './health-report.js';
export { brokerCheck } from './indicators/broker.indicator.js';
export { databaseCheck } from './indicators/database.indicator.js';
export { diskSpaceCheck } from './indicators/disk-space.indicator.js';
export { httpCheck } from './indicators/http.indicator.js';
export { redisCheck } from './indicators/redis.indicator.js';
export { fromTerminusIndicator } from './indicators/terminus.indicator.js';
export { LivenessService } from './liveness.service.js';
export { ReadinessService } from './readiness.service.js';
export { messageSanitizer } from './sanitize-message.js';
