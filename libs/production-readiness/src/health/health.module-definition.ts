import { ConfigurableModuleBuilder, type DynamicModule } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { createHealthController } from './health.controller.js';
import {
  DEFAULT_HEALTH_PATHS,
  HEALTH_OPTIONS,
  type HealthOptions,
  type HealthPaths,
} from './health.options.js';

export interface HealthExtras {
  /** Make the readiness service injectable everywhere. @default true */
  isGlobal: boolean;
  /** The probe paths; fixed when the module is declared. @default DEFAULT_HEALTH_PATHS */
  paths: Partial<HealthPaths>;
}

export const {
  ConfigurableModuleClass: HealthModuleClass,
  OPTIONS_TYPE: HEALTH_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: HEALTH_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<HealthOptions>({
  moduleName: 'Health',
  optionsInjectionToken: HEALTH_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras<HealthExtras>(
    { isGlobal: true, paths: {} },
    (definition, { isGlobal, paths }): DynamicModule => ({
      ...definition,
      global: isGlobal,
      controllers: [createHealthController({ ...DEFAULT_HEALTH_PATHS, ...paths })],
      providers: [...(definition.providers ?? []), HealthIndicatorService],
    }),
  )
  .build();
