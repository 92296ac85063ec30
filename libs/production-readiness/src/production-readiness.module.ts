import { Module, type DynamicModule } from '@nestjs/common';
import {
  PRODUCTION_READINESS_OPTIONS_TYPE,
  ProductionReadinessModuleClass,
} from './production-readiness.module-definition.js';

/**
 * Makes a Nest service production ready with one import:
 *
 * ```ts
 * @Module({ imports: [ProductionReadinessModule.forRoot({ config: EssayServiceConfig })] })
 * export class AppModule {}
 * ```
 *
 * It composes one module per concern; each is also importable alone.
 */
@Module({})
export class ProductionReadinessModule extends ProductionReadinessModuleClass {
  /** The module with its options; every one has a default, so `forRoot()` is enough. */
  static forRoot(options: typeof PRODUCTION_READINESS_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
