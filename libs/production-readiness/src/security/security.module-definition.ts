import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { SecurityOptions } from './security.options.js';

/** Injection token of SecurityModule's options. */
export const SECURITY_OPTIONS = 'SECURITY_OPTIONS';

export const {
  ConfigurableModuleClass: SecurityModuleClass,
  OPTIONS_TYPE: SECURITY_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: SECURITY_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SecurityOptions>({
  moduleName: 'Security',
  optionsInjectionToken: SECURITY_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, { isGlobal }) => ({
    ...definition,
    global: isGlobal,
  }))
  .build();
