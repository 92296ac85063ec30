import { Module } from '@nestjs/common';
import { ProductionReadinessModule } from 'nestjs-production-readiness';
import { AppController } from './app.controller';
import { AppService } from './app.service';

@Module({
  imports: [ProductionReadinessModule.forRoot()],
  controllers: [AppController],
  providers: [AppService],
})
export class AppModule {}
