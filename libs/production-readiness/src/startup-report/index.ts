export { containerMemoryLimitBytes } from './container-memory.js';
export { StartupRefusedError } from './startup-refused.error.js';
export {
  assessStartupRisks,
  type ConfiguredDependency,
  type StartupFacts,
  type StartupReport,
  type StartupRisk,
  type StartupRiskCode,
} from './startup-report.js';
export { StartupReportModule } from './startup-report.module.js';
export { StartupReportService } from './startup-report.service.js';
