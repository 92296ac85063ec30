export {
  CircuitBreaker,
  CircuitOpenError,
  type CircuitPermit,
  type CircuitState,
} from './circuit-breaker.js';
export { ResilienceModule } from './resilience.module.js';
export { circuitCheckName, ResiliencePolicies } from './resilience-policies.service.js';
export {
  ResiliencePipeline,
  type AttemptContext,
  type ExecuteOptions,
  type PolicyCallOutcome,
  type PolicyObserver,
  type RetryOutcome,
} from './resilience-pipeline.js';
export {
  DEFAULT_ATTEMPT_TIMEOUT_MS,
  DEFAULT_BULKHEAD,
  DEFAULT_CIRCUIT_BREAKER,
  DEFAULT_RETRY,
  DEFAULT_TIMEOUT_MS,
  RESILIENCE_OPTIONS,
  resolvePolicyOptions,
  type BulkheadOptions,
  type CircuitBreakerOptions,
  type ResilienceOptions,
  type ResiliencePolicyOptions,
  type ResolvedPolicyOptions,
  type RetryOptions,
} from './resilience.options.js';
export { Resilient } from './resilient.decorator.js';
export { fullJitterDelayMs, parseRetryAfter, RetryBudget } from './retry-schedule.js';
export { isTransientError, retryAfterMsOf, TRANSIENT_STATUSES } from './transient-error.js';
