import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ResiliencePolicies } from './resilience-policies.service.js';
import { ResilienceModuleClass } from './resilience.module-definition.js';

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
export class ResilienceModule extends ResilienceModuleClass {}
