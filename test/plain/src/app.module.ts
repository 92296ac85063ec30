import { Module } from '@nestjs/common';
import { ProductionReadinessModule } from 'nestjs-production-readiness';
import { AppController } from './app.controller.js';

/**
 * An app laid out as `nest new` makes it, with the one import added and
 * nothing else changed.
 */
@Module({
  imports: [ProductionReadinessModule.forRoot()],
  controllers: [AppController],
})
export class AppModule {}
