import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { LoggingOptions } from './logging.options.js';

/** Injection token of LoggingModule's options. */
export const LOGGING_OPTIONS = 'LOGGING_OPTIONS';

export const {
  ConfigurableModuleClass: LoggingModuleClass,
  OPTIONS_TYPE: LOGGING_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: LOGGING_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<LoggingOptions>({
  moduleName: 'Logging',
  optionsInjectionToken: LOGGING_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, { isGlobal }) => ({
    ...definition,
    global: isGlobal,
  }))
  .build();
