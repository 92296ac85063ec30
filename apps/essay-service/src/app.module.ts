import { Module } from '@nestjs/common';
import {
  ProductionReadinessModule,
  type ProductionReadinessOptions,
  type ResiliencePolicyOptions,
} from 'nestjs-production-readiness';
import { BatchesModule } from './batches/batches.module.js';
import { DatabaseModule } from './database/database.module.js';
import { EssayServiceConfig } from './essay-service.config.js';
import { EssaysModule } from './essays/essays.module.js';
import { LANGUAGE_TOOL_POLICY } from './essays/grammar/grammar-checker.service.js';

/**
 * The LanguageTool calls: a grammar check may wait 5 s in all, 2 s per
 * attempt, 3 attempts; the breaker opens when half of the last 20 calls (at
 * least 5) failed, and lets 2 trial calls through after 15 s.
 */
export const LANGUAGE_TOOL_RESILIENCE: ResiliencePolicyOptions = {
  timeoutMs: 5_000,
  attemptTimeoutMs: 2_000,
  retry: { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 1_000 },
  circuitBreaker: {
    failureRateThreshold: 0.5,
    windowSize: 20,
    minimumCalls: 5,
    openDurationMs: 15_000,
    halfOpenCalls: 2,
  },
  bulkhead: { maxConcurrent: 8, maxQueue: 32 },
};

/** The essay service's production-readiness options: its config, messaging, the LanguageTool policy. */
export const ESSAY_SERVICE_READINESS: ProductionReadinessOptions = {
  config: EssayServiceConfig,
  messaging: true,
  resilience: { policies: { [LANGUAGE_TOOL_POLICY]: LANGUAGE_TOOL_RESILIENCE } },
};

/** The service's own feature modules: its database, essays and batches. */
export const ESSAY_SERVICE_FEATURES = [DatabaseModule, EssaysModule, BatchesModule];

@Module({
  imports: [ProductionReadinessModule.forRoot(ESSAY_SERVICE_READINESS), ...ESSAY_SERVICE_FEATURES],
})
export class AppModule {}
