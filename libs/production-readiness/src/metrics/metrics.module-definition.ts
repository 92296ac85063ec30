import { ConfigurableModuleBuilder, type DynamicModule } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { createMetricsController } from './metrics.controller.js';
import { DEFAULT_METRICS_PATH, METRICS_OPTIONS, type MetricsOptions } from './metrics.options.js';

/** Injection token of the exposition's path. */
export const METRICS_PATH = 'METRICS_PATH';

export interface MetricsExtras {
  /** Make MetricsRegistry and the HTTP/message metrics injectable everywhere. @default true */
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
    (definition, { isGlobal, path }): DynamicModule => {
      // A controller class per declaration, its path set as
      // @willsoto/nestjs-prometheus sets its own controller's.
      const controller = createMetricsController();
      Reflect.defineMetadata(PATH_METADATA, path, controller);
      return {
        ...definition,
        global: isGlobal,
        controllers: [controller],
        providers: [...(definition.providers ?? []), { provide: METRICS_PATH, useValue: path }],
      };
    },
  )
  .build();
