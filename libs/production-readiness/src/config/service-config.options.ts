import type { ServiceConfigClass } from './base-service.config.js';

/** Options of ServiceConfigModule that may come from an async factory. */
export interface ServiceConfigOptions {
  /**
   * The `.env` file to read, relative to the working directory; `false` reads none.
   * Real environment variables always win over it.
   * @default '.env'
   */
  envFilePath?: string | false;
  /**
   * The environment to read instead of `process.env` (tests, embedding).
   * @default process.env
   */
  env?: Record<string, string | undefined>;
}

/** Options fixed when the module is declared, because they decide its providers. */
export interface ServiceConfigExtras {
  /**
   * The config class to load and provide; inject it by this class.
   * It is also provided as `BaseServiceConfig` for the library's own modules.
   * @default BaseServiceConfig
   */
  config: ServiceConfigClass;
  /** Make the config injectable everywhere without importing the module. @default true */
  isGlobal: boolean;
}
