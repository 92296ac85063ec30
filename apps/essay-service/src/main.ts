// First: starts OpenTelemetry before the app's modules load (a no-op unless
// TRACING_ENABLED and an OTLP endpoint are set).
import 'nestjs-production-readiness/tracing';
import 'reflect-metadata';
import { bootstrapService } from 'nestjs-production-readiness';
import { AppModule } from './app.module.js';

await bootstrapService(AppModule);
