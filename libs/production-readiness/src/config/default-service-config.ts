import type { FactoryProvider } from '@nestjs/common';
import { BaseServiceConfig } from './base-service.config.js';
import { loadConfig } from './load-config.js';

/** Injection token of the config the library's own providers read. */
export const SERVICE_CONFIG = 'NPR_SERVICE_CONFIG';

/**
 * The config a concern module reads: the app's (ServiceConfigModule, which
 * ProductionReadinessModule imports), or, when the module is imported alone,
 * BaseServiceConfig read from the environment and `.env`. Each concern
 * module lists this provider, so each also works on its own.
 */
export const serviceConfigProvider: FactoryProvider<BaseServiceConfig> = {
  provide: SERVICE_CONFIG,
  useFactory: (config?: BaseServiceConfig) => config ?? loadConfig(BaseServiceConfig),
  inject: [{ token: BaseServiceConfig, optional: true }],
};
