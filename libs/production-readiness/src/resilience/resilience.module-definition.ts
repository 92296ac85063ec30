import { ConfigurableModuleBuilder } from '@nestjs/common';
import { RESILIENCE_OPTIONS, type ResilienceOptions } from './resilience.options.js';

export const {
  ConfigurableModuleClass: ResilienceModuleClass,
  OPTIONS_TYPE: RESILIENCE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: RESILIENCE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ResilienceOptions>({
  moduleName: 'Resilience',
  optionsInjectionToken: RESILIENCE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, { isGlobal }) => ({
    ...definition,
    global: isGlobal,
  }))
  .build();
