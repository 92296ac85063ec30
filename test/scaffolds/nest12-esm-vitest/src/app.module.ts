import { Module } from '@nestjs/common';
import { ProductionReadinessModule } from 'nestjs-production-readiness';
import { AppController } from './app.controller.js';
import { AppService } from './app.service.js';

@Module({
  imports: [ProductionReadinessModule.forRoot()],
  controllers: [AppController],
  providers: [AppService],
})
export class AppModule {}
