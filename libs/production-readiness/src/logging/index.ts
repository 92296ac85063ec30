export { LoggingModule } from './logging.module.js';
export { LOGGING_OPTIONS } from './logging.module-definition.js';
export { DEFAULT_QUIET_PATHS, type AccessLogMode, type LoggingOptions } from './logging.options.js';
export { fieldRedactor, REDACTED } from './redact-fields.js';
export {
  createLogDestination,
  LogDestination,
  type LogDestinationOptions,
} from './log-destination.js';
export { PINO_LEVELS, ServiceLogger } from './service-logger.js';
