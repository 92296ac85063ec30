import type { ServiceConfigClass } from './base-service.config.js';

/** Options of ServiceConfigModule.forRoot(), fixed when the module is declared. */
export interface ServiceConfigOptions {
  /**
   * The config class to load and provide; inject it by this class.
   * It is also provided as `BaseServiceConfig` for the library's own modules.
   * @default BaseServiceConfig
   */
  config?: ServiceConfigClass;
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
  /** Make the config injectable everywhere without importing the module. @default true */
  isGlobal?: boolean;
}
