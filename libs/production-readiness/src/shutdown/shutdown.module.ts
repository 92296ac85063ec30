import { ConfigurableModuleBuilder, Module, type DynamicModule } from '@nestjs/common';
import { GracefulShutdown } from './graceful-shutdown.service.js';
import { MessageHandlersInFlight } from './message-handlers-in-flight.js';
import { SHUTDOWN_OPTIONS, type ShutdownOptions } from './shutdown.options.js';
import { serviceConfigProvider } from '../config/default-service-config.js';
import { HttpPipelineModule } from '../http/http-pipeline.module.js';

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
 * The graceful shutdown sequence (GracefulShutdown): on SIGTERM or SIGINT,
 * or on `app.close()`, new requests get 503, in-flight ones finish, then
 * Nest's shutdown hooks run. Uses health and logging when present.
 */
@Module({
  imports: [HttpPipelineModule],
  providers: [serviceConfigProvider, GracefulShutdown, MessageHandlersInFlight],
  exports: [GracefulShutdown, MessageHandlersInFlight],
})
export class ShutdownModule extends ShutdownModuleClass {
  /** The module with its options; every one has a default, so `forRoot()` is enough. */
  static forRoot(options: typeof SHUTDOWN_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
