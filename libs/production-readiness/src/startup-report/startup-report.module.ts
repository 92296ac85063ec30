import { Module } from '@nestjs/common';
import { StartupReportService } from './startup-report.service.js';
import { serviceConfigProvider } from '../config/default-service-config.js';

/**
 * The startup report: what is on and the production risks, logged once at
 * startup; with STRICT_READINESS=true, a refusal to start on them. Needs the config
 * from ServiceConfigModule; reads shutdown, health, messaging and Redis when present.
 */
@Module({
  providers: [serviceConfigProvider, StartupReportService],
  exports: [StartupReportService],
})
export class StartupReportModule {}
