import { Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ResiliencePolicies } from './resilience-policies.service.js';
import { ResilienceModuleClass, RESILIENCE_OPTIONS_TYPE } from './resilience.module-definition.js';

/**
 * Named resilience policies (timeouts, retries, circuit breakers, bulkheads)
 * for the app's dependencies, with their metrics, logs and /healthz checks:
 * `ResiliencePolicies.execute('language-tool', fn)` or `@Resilient('language-tool')`.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [ResiliencePolicies],
  exports: [ResiliencePolicies],
})
export class ResilienceModule extends ResilienceModuleClass {
  /** The module with its options; every one has a default, so `forRoot()` is enough. */
  static forRoot(options: typeof RESILIENCE_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
