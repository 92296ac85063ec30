export {
  BaseServiceConfig,
  LOG_LEVELS,
  type LogLevel,
  type ServiceConfigClass,
} from './base-service.config.js';
export {
  ConfigValidationError,
  isConfigValidationError,
  type SettingProblem,
} from './config-validation.error.js';
export { loadConfig, settingNamesOf, type LoadConfigOptions } from './load-config.js';
export { redactSettings, redactUrlPassword } from './redaction.js';
export { SecretSetting } from './secret-setting.decorator.js';
export { ServiceConfigModule } from './service-config.module.js';
export type { ServiceConfigOptions } from './service-config.options.js';
export {
  IsApiKeyList,
  IsHeaderName,
  IsHostPortList,
  IsOriginList,
  IsServiceUrl,
} from './setting-validators.js';
export { ToBoolean, ToInteger, ToList, ToLowerCase, ToUpperCase } from './setting-transforms.js';
