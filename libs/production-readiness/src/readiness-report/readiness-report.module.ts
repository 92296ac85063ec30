import { Module } from '@nestjs/common';
import { ReadinessReportService } from './readiness-report.service.js';
import { serviceConfigProvider } from '../config/default-service-config.js';

/**
 * The production-readiness report logged once at startup, with its warnings;
 * with STRICT_READINESS=true, a refusal to start on them. Needs the config
 * from ServiceConfigModule; reads shutdown, health, messaging and Redis when present.
 */
@Module({
  providers: [serviceConfigProvider, ReadinessReportService],
  exports: [ReadinessReportService],
})
export class ReadinessReportModule {}
