import { ConfigurableModuleBuilder, Module } from '@nestjs/common';
import { GracefulShutdown } from './graceful-shutdown.service.js';
import { MessageHandlersInFlight } from './message-handlers-in-flight.js';
import { SHUTDOWN_OPTIONS, type ShutdownOptions } from './shutdown.options.js';

export const {
  ConfigurableModuleClass: ShutdownModuleClass,
  OPTIONS_TYPE: SHUTDOWN_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: SHUTDOWN_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ShutdownOptions>({
  moduleName: 'Shutdown',
  optionsInjectionToken: SHUTDOWN_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, { isGlobal }) => ({
    ...definition,
    global: isGlobal,
  }))
  .build();

/**
 * The graceful shutdown sequence (GracefulShutdown). createServiceApp()
 * attaches it to the app in place of Nest's enableShutdownHooks. Requires
 * the config from ServiceConfigModule; uses health and logging when present.
 */
@Module({
  providers: [GracefulShutdown, MessageHandlersInFlight],
  exports: [GracefulShutdown, MessageHandlersInFlight],
})
export class ShutdownModule extends ShutdownModuleClass {}
