import { Module } from '@nestjs/common';
import { ShutdownModule } from 'nestjs-production-readiness';
import { AppController } from './app.controller.js';

/** The same app with only the graceful shutdown of the library (PLAIN_MODULES=shutdown). */
@Module({
  imports: [ShutdownModule.forRoot()],
  controllers: [AppController],
})
export class ShutdownOnlyModule {}
