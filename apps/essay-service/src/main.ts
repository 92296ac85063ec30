import 'reflect-metadata';
import { bootstrapService } from 'nestjs-production-readiness';
import { AppModule } from './app.module.js';

await bootstrapService(AppModule);
