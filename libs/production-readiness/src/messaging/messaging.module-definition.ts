import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { MessagingOptions } from './messaging.options.js';

/** Injection token of MessagingModule's options. */
export const MESSAGING_OPTIONS = 'MESSAGING_OPTIONS';

export const {
  ConfigurableModuleClass: MessagingModuleClass,
  OPTIONS_TYPE: MESSAGING_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: MESSAGING_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MessagingOptions>({
  moduleName: 'Messaging',
  optionsInjectionToken: MESSAGING_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, { isGlobal }) => ({
    ...definition,
    global: isGlobal,
  }))
  .build();
