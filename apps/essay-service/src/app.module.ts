import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  ProductionReadinessModule,
  type ProductionReadinessOptions,
} from 'nestjs-production-readiness';
import { BatchesModule } from './batches/batches.module.js';
import { databaseOptionsFor } from './database/database.options.js';
import { EssayServiceConfig } from './essay-service.config.js';
import { EssaysModule } from './essays/essays.module.js';

/**
 * The essay service with its production-readiness options, which tests and
 * embedders may extend (a log destination, an environment).
 */
@Module({})
export class EssayServiceModule {
  static forRoot(options: ProductionReadinessOptions = {}): DynamicModule {
    return {
      module: EssayServiceModule,
      imports: [
        ProductionReadinessModule.forRoot({
          config: EssayServiceConfig,
          messaging: true,
          ...options,
        }),
        TypeOrmModule.forRootAsync({
          inject: [EssayServiceConfig],
          useFactory: (config: EssayServiceConfig) => databaseOptionsFor(config),
        }),
        EssaysModule,
        BatchesModule,
      ],
    };
  }
}

/** The essay service as `npm start` runs it. */
@Module({ imports: [EssayServiceModule.forRoot()] })
export class AppModule {}
