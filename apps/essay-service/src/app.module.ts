import { Module, type DynamicModule } from '@nestjs/common';
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

/**
 * The essay service with its production-readiness options, which tests and
 * embedders may extend (a log destination, an environment).
 */
@Module({})
export class EssayServiceModule {
  static forRoot(options: ProductionReadinessOptions = {}): DynamicModule {
    return {
      module: EssayServiceModule,
      imports: [
        ProductionReadinessModule.forRoot({
          config: EssayServiceConfig,
          messaging: true,
          resilience: { policies: { [LANGUAGE_TOOL_POLICY]: LANGUAGE_TOOL_RESILIENCE } },
          ...options,
        }),
        DatabaseModule,
        EssaysModule,
        BatchesModule,
      ],
    };
  }
}

/** The essay service as `npm start` runs it. */
@Module({ imports: [EssayServiceModule.forRoot()] })
export class AppModule {}
