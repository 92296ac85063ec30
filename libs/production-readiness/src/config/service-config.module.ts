import { Module } from '@nestjs/common';
import { ServiceConfigModuleClass } from './service-config.module-definition.js';

/**
 * Loads and validates the service's config class once, at startup, and
 * provides it by its class:
 *
 * ```ts
 * ServiceConfigModule.forRoot({ config: EssayServiceConfig })
 * // then: constructor(private readonly config: EssayServiceConfig) {}
 * ```
 */
@Module({})
export class ServiceConfigModule extends ServiceConfigModuleClass {}
