export { containerMemoryLimitBytes } from './container-memory.js';
export { ReadinessRefusedError } from './readiness-refused.error.js';
export {
  assessReadiness,
  type ConfiguredDependency,
  type ReadinessFacts,
  type ReadinessReport,
  type ReadinessRisk,
  type ReadinessRiskCode,
} from './readiness-report.js';
export { ReadinessReportModule } from './readiness-report.module.js';
export { ReadinessReportService } from './readiness-report.service.js';
