import { ConfigurableModuleBuilder, type DynamicModule } from '@nestjs/common';
import { createMetricsController } from './metrics.controller.js';
import { DEFAULT_METRICS_PATH, METRICS_OPTIONS, type MetricsOptions } from './metrics.options.js';

export interface MetricsExtras {
  /** Make MetricsRegistry injectable everywhere. @default true */
  isGlobal: boolean;
  /** The exposition path. @default '/metrics' */
  path: string;
}

export const {
  ConfigurableModuleClass: MetricsModuleClass,
  OPTIONS_TYPE: METRICS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: METRICS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MetricsOptions>({
  moduleName: 'Metrics',
  optionsInjectionToken: METRICS_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras<MetricsExtras>(
    { isGlobal: true, path: DEFAULT_METRICS_PATH },
    (definition, { isGlobal, path }): DynamicModule => ({
      ...definition,
      global: isGlobal,
      controllers: [createMetricsController(path)],
    }),
  )
  .build();
