import { ConfigurableModuleBuilder, Module, type DynamicModule } from '@nestjs/common';
import { serviceConfigProvider } from '../config/default-service-config.js';
import { HttpPipelineModule } from '../http/http-pipeline.module.js';
import { OverloadProtection } from './overload-protection.service.js';
import { OVERLOAD_OPTIONS, type OverloadOptions } from './overload.options.js';

export const {
  ConfigurableModuleClass: OverloadModuleClass,
  OPTIONS_TYPE: OVERLOAD_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: OVERLOAD_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<OverloadOptions>({
  moduleName: 'Overload',
  optionsInjectionToken: OVERLOAD_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, { isGlobal }) => ({
    ...definition,
    global: isGlobal,
  }))
  .build();

/**
 * Overload protection (OverloadProtection): past its capacity the service
 * answers the excess 503 OVERLOADED at once and keeps serving the rest;
 * the probes and /metrics are never shed, and message handlers wait while
 * it lasts. Uses metrics when present.
 */
@Module({
  imports: [HttpPipelineModule],
  providers: [serviceConfigProvider, OverloadProtection],
  exports: [OverloadProtection],
})
export class OverloadModule extends OverloadModuleClass {
  /** The module with its options; every one has a default, so `forRoot()` is enough. */
  static forRoot(options: typeof OVERLOAD_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
