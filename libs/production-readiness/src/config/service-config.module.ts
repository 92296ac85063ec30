import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { assertServiceConfigClass, BaseServiceConfig } from './base-service.config.js';
import { loadConfig } from './load-config.js';
import type { ServiceConfigOptions } from './service-config.options.js';

/**
 * Loads and validates the service's config class once, at startup, and
 * provides it by its class; the same validated, coerced values are what
 * `@nestjs/config`'s ConfigService returns (`config.get('PORT')` is a
 * number), beside any `ConfigModule.forRoot()` of the app's own:
 *
 * ```ts
 * ServiceConfigModule.forRoot({ config: OrdersConfig })
 * // then: constructor(private readonly config: OrdersConfig) {}
 * ```
 */
@Module({})
export class ServiceConfigModule {
  static forRoot(options: ServiceConfigOptions = {}): DynamicModule {
    const { config = BaseServiceConfig, envFilePath, env, isGlobal = true } = options;
    assertServiceConfigClass(config);
    // Loaded inside Nest's injector, once per app (an AppModule reused by
    // several tests sees each one's environment): an invalid config fails
    // NestFactory.create() (or compile()) with one error naming every problem.
    const load = () => loadConfig(config, { envFilePath, env });
    // ConfigModule.forFeature() with an unnamed factory merges its object at
    // the top of ConfigService's own config, which get() reads before
    // process.env: `get('PORT')` is the coerced number, not the string.
    const configService = ConfigModule.forFeature(() => ({ ...load() }));
    return {
      module: ServiceConfigModule,
      global: isGlobal,
      imports: [configService],
      providers: [
        { provide: config, useFactory: load },
        ...(config === BaseServiceConfig
          ? []
          : [{ provide: BaseServiceConfig, useExisting: config }]),
      ],
      exports: [config, BaseServiceConfig, configService],
    };
  }
}
