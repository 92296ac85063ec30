import { Module } from '@nestjs/common';
import { ProductionReadinessModuleClass } from './production-readiness.module-definition.js';

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
export class ProductionReadinessModule extends ProductionReadinessModuleClass {}
