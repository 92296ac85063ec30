import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ErrorsOptions } from './errors.options.js';

/** Injection token of ErrorsModule's options. */
export const ERRORS_OPTIONS = 'ERRORS_OPTIONS';

export const {
  ConfigurableModuleClass: ErrorsModuleClass,
  OPTIONS_TYPE: ERRORS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: ERRORS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ErrorsOptions>({
  moduleName: 'Errors',
  optionsInjectionToken: ERRORS_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, { isGlobal }) => ({
    ...definition,
    global: isGlobal,
    // ProblemResponseModule, imported by other concerns too, reads them.
    exports: [...(definition.exports ?? []), ERRORS_OPTIONS],
  }))
  .build();
