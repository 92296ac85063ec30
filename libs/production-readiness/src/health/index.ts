export { HealthModule } from './health.module.js';
export { type HealthExtras } from './health.module-definition.js';
export {
  DEFAULT_HEALTH_PATHS,
  HEALTH_OPTIONS,
  type CheckVerdict,
  type DependencyCheck,
  type HealthOptions,
  type HealthPaths,
  type HttpDependency,
} from './health.options.js';
export { HEALTH_CONTENT_TYPE, type CheckReport, type HealthReport } from './health-report.js';
export { brokerCheck } from './checks/broker.check.js';
export { databaseCheck } from './checks/database.check.js';
export { diskSpaceCheck } from './checks/disk-space.check.js';
export { httpCheck } from './checks/http.check.js';
export { redisCheck } from './checks/redis.check.js';
export { fromTerminusIndicator } from './checks/terminus-indicator.check.js';
export { LivenessService } from './liveness.service.js';
export { ReadinessService } from './readiness.service.js';
export { messageSanitizer } from './sanitize-message.js';
