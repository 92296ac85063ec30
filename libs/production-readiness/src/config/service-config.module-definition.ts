import { ConfigurableModuleBuilder, type DynamicModule } from '@nestjs/common';
import { assertServiceConfigClass, BaseServiceConfig } from './base-service.config.js';
import { loadConfig } from './load-config.js';
import type { ServiceConfigExtras, ServiceConfigOptions } from './service-config.options.js';

/** Injection token of ServiceConfigModule's options. */
export const SERVICE_CONFIG_OPTIONS = 'SERVICE_CONFIG_OPTIONS';

export const {
  ConfigurableModuleClass: ServiceConfigModuleClass,
  OPTIONS_TYPE: SERVICE_CONFIG_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: SERVICE_CONFIG_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ServiceConfigOptions>({
  moduleName: 'ServiceConfig',
  optionsInjectionToken: SERVICE_CONFIG_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras<ServiceConfigExtras>(
    { config: BaseServiceConfig, isGlobal: true },
    (definition, { config, isGlobal }): DynamicModule => {
      // The config class is both the token and the thing to load, so it has to
      // be known when the module is declared; the options (which .env file,
      // which environment) may still come from a factory.
      assertServiceConfigClass(config);
      const providers = [
        {
          provide: config,
          useFactory: (options: ServiceConfigOptions) => loadConfig(config, options),
          inject: [SERVICE_CONFIG_OPTIONS],
        },
        ...(config === BaseServiceConfig
          ? []
          : [{ provide: BaseServiceConfig, useExisting: config }]),
      ];
      return {
        ...definition,
        global: isGlobal,
        providers: [...(definition.providers ?? []), ...providers],
        exports: [config, BaseServiceConfig],
      };
    },
  )
  .build();
