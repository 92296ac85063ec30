import { Module, ValidationPipe } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ProductionReadinessModule } from 'nestjs-production-readiness';
import { databaseOptionsFor } from './database/database.options.js';
import { EssayServiceConfig } from './essay-service.config.js';
import { EssaysModule } from './essays/essays.module.js';

@Module({
  imports: [
    ProductionReadinessModule.forRoot({ config: EssayServiceConfig, messaging: true }),
    TypeOrmModule.forRootAsync({
      inject: [EssayServiceConfig],
      useFactory: (config: EssayServiceConfig) => databaseOptionsFor(config),
    }),
    EssaysModule,
  ],
  providers: [
    {
      provide: APP_PIPE,
      useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
    },
  ],
})
export class AppModule {}
