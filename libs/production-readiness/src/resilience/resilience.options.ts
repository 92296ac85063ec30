/** Injection token of ResilienceModule's options. */
export const RESILIENCE_OPTIONS = 'RESILIENCE_OPTIONS';

/**
 * Retries with exponential backoff and full jitter, for transient failures only.
 * A retry waits `random(0, min(maxDelayMs, baseDelayMs × 2^(retry-1)))`, or the
 * dependency's `Retry-After` when it gives one no longer than `maxDelayMs`.
 */
export interface RetryOptions {
  /** Attempts in all, the first one included (gRPC's `maxAttempts`). @default 3 */
  maxAttempts?: number;
  /** The backoff's base: the first retry waits up to this long, in ms. @default 100 */
  baseDelayMs?: number;
  /**
   * The cap of one wait, in ms; a `Retry-After` above it ends the retries
   * instead of being shortened. @default 2000
   */
  maxDelayMs?: number;
  /**
   * The retry budget, a token bucket as gRPC's retry throttling: each failed
   * attempt takes a token, each success gives back `tokenRatio`, and no retry
   * starts while `maxTokens / 2` or fewer are left. With the defaults retries
   * stop once about one attempt in ten fails. `false` disables it.
   * @default { maxTokens: 10, tokenRatio: 0.1 }
   */
  budget?: { maxTokens: number; tokenRatio: number } | false;
}

/**
 * A circuit breaker with Resilience4j's semantics: the failure (and slow-call)
 * rate over a sliding window, evaluated once `minimumCalls` are recorded.
 */
export interface CircuitBreakerOptions {
  /** Opens at this share of failed calls in the window, 0 < x ≤ 1. @default 0.5 */
  failureRateThreshold?: number;
  /** `count`: the last `windowSize` calls; `time`: the calls of the last `windowSize` seconds. @default 'count' */
  windowType?: 'count' | 'time';
  /** Calls (count window) or seconds (time window). @default 20 */
  windowSize?: number;
  /** No verdict before this many calls are in the window. @default 10 */
  minimumCalls?: number;
  /** A call taking this long or longer is slow, in ms; 0 counts none as slow. @default 0 */
  slowCallDurationMs?: number;
  /** Opens at this share of slow calls in the window, 0 < x ≤ 1. @default 1 */
  slowCallRateThreshold?: number;
  /** How long it stays open before letting trial calls through, in ms. @default 10000 */
  openDurationMs?: number;
  /** Trial calls let through when half-open; it closes when their rates are below the thresholds. @default 3 */
  halfOpenCalls?: number;
  /**
   * When open, whether readiness fails (`true`) or /healthz only reports the
   * dependency `degraded` (`false`): an optional dependency's open breaker
   * must not take every replica out of the load balancer. @default false
   */
  required?: boolean;
}

/** A concurrency limit with a bounded queue; beyond both a call is rejected at once. */
export interface BulkheadOptions {
  /** Calls running at once. @default 20 */
  maxConcurrent?: number;
  /** Calls waiting for a slot; more are rejected. @default 40 */
  maxQueue?: number;
}

/**
 * One named policy. Its parts run in a fixed order, outermost first:
 * total timeout → retry → circuit breaker → bulkhead → attempt timeout.
 */
export interface ResiliencePolicyOptions {
  /** The whole call, retries and waits included, in ms. @default 10000 */
  timeoutMs?: number;
  /** One attempt, in ms; at most `timeoutMs`. @default 3000 */
  attemptTimeoutMs?: number;
  /** Retries, or `false` for a single attempt. @default RetryOptions defaults */
  retry?: RetryOptions | false;
  /** The circuit breaker, or `false` for none. @default CircuitBreakerOptions defaults */
  circuitBreaker?: CircuitBreakerOptions | false;
  /** The bulkhead, or `false` for no concurrency limit. @default BulkheadOptions defaults */
  bulkhead?: BulkheadOptions | false;
  /**
   * Which errors are worth retrying. @default isTransientError (connection
   * refused or reset, timeouts, 408, 429, 502, 503, 504, PostgreSQL
   * serialization and connection failures)
   */
  isTransient?: (error: unknown) => boolean;
}

/** Options of ResilienceModule. */
export interface ResilienceOptions {
  /** Defaults for every policy, over the built-in ones. @default {} */
  defaults?: ResiliencePolicyOptions;
  /** The named policies, one per dependency (`'language-tool': { timeoutMs: 5000 }`). @default {} */
  policies?: Record<string, ResiliencePolicyOptions>;
}

export interface ResolvedPolicyOptions {
  name: string;
  timeoutMs: number;
  attemptTimeoutMs: number;
  retry: Required<Omit<RetryOptions, 'budget'>> & {
    budget: { maxTokens: number; tokenRatio: number } | false;
  };
  circuitBreaker: Required<CircuitBreakerOptions> | false;
  bulkhead: Required<BulkheadOptions> | false;
  isTransient?: (error: unknown) => boolean;
}

export const DEFAULT_RETRY: Required<RetryOptions> = {
  maxAttempts: 3,
  baseDelayMs: 100,
  maxDelayMs: 2_000,
  budget: { maxTokens: 10, tokenRatio: 0.1 },
};

export const DEFAULT_CIRCUIT_BREAKER: Required<CircuitBreakerOptions> = {
  failureRateThreshold: 0.5,
  windowType: 'count',
  windowSize: 20,
  minimumCalls: 10,
  slowCallDurationMs: 0,
  slowCallRateThreshold: 1,
  openDurationMs: 10_000,
  halfOpenCalls: 3,
  required: false,
};

export const DEFAULT_BULKHEAD: Required<BulkheadOptions> = { maxConcurrent: 20, maxQueue: 40 };

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 3_000;

function part<T extends object>(
  builtIn: Required<T>,
  ...layers: (T | false | undefined)[]
): Required<T> | false {
  let resolved: Required<T> | false = builtIn;
  for (const layer of layers) {
    if (layer === undefined) continue;
    resolved = layer === false ? false : { ...(resolved || builtIn), ...layer };
  }
  return resolved;
}

/**
 * A policy's options: the built-in defaults, then `defaults`, then its own.
 * Throws, listing every problem, when they cannot work together.
 */
export function resolvePolicyOptions(
  name: string,
  own: ResiliencePolicyOptions = {},
  defaults: ResiliencePolicyOptions = {},
): ResolvedPolicyOptions {
  const retry = part(DEFAULT_RETRY, defaults.retry, own.retry);
  const resolved: ResolvedPolicyOptions = {
    name,
    timeoutMs: own.timeoutMs ?? defaults.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    attemptTimeoutMs:
      own.attemptTimeoutMs ?? defaults.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS,
    retry: retry === false ? { ...DEFAULT_RETRY, maxAttempts: 1, budget: false } : retry,
    circuitBreaker: part(DEFAULT_CIRCUIT_BREAKER, defaults.circuitBreaker, own.circuitBreaker),
    bulkhead: part(DEFAULT_BULKHEAD, defaults.bulkhead, own.bulkhead),
    isTransient: own.isTransient ?? defaults.isTransient,
  };
  const problems = problemsOf(resolved);
  if (problems.length > 0) {
    throw new TypeError(
      `Invalid resilience policy "${name}": ${problems.length} problem(s)\n` +
        problems.map((problem) => `  - ${problem}`).join('\n'),
    );
  }
  return resolved;
}

const isPositiveInteger = (value: number) => Number.isSafeInteger(value) && value >= 1;
const isRatio = (value: number) => value > 0 && value <= 1;

function problemsOf(policy: ResolvedPolicyOptions): string[] {
  const problems: string[] = [];
  const { timeoutMs, attemptTimeoutMs, retry, circuitBreaker, bulkhead } = policy;
  if (!isPositiveInteger(timeoutMs))
    problems.push(`timeoutMs must be a positive integer (got ${timeoutMs})`);
  if (!isPositiveInteger(attemptTimeoutMs) || attemptTimeoutMs > timeoutMs) {
    problems.push(
      `attemptTimeoutMs must be a positive integer at most timeoutMs ${timeoutMs} (got ${attemptTimeoutMs})`,
    );
  }
  if (!isPositiveInteger(retry.maxAttempts))
    problems.push(`retry.maxAttempts must be 1 or more (got ${retry.maxAttempts})`);
  if (!(retry.baseDelayMs >= 0) || !(retry.maxDelayMs >= retry.baseDelayMs)) {
    problems.push(
      `retry needs 0 ≤ baseDelayMs ≤ maxDelayMs (got ${retry.baseDelayMs} and ${retry.maxDelayMs})`,
    );
  }
  if (retry.budget && !(retry.budget.maxTokens > 0 && retry.budget.tokenRatio > 0)) {
    problems.push('retry.budget needs maxTokens and tokenRatio above 0');
  }
  if (circuitBreaker) {
    const cb = circuitBreaker;
    if (!isRatio(cb.failureRateThreshold))
      problems.push(
        `circuitBreaker.failureRateThreshold must be in (0, 1] (got ${cb.failureRateThreshold})`,
      );
    if (!isRatio(cb.slowCallRateThreshold))
      problems.push(
        `circuitBreaker.slowCallRateThreshold must be in (0, 1] (got ${cb.slowCallRateThreshold})`,
      );
    if (cb.windowType !== 'count' && cb.windowType !== 'time')
      problems.push(
        `circuitBreaker.windowType must be count or time (got ${String(cb.windowType)})`,
      );
    if (!isPositiveInteger(cb.windowSize))
      problems.push(`circuitBreaker.windowSize must be a positive integer (got ${cb.windowSize})`);
    if (
      !isPositiveInteger(cb.minimumCalls) ||
      (cb.windowType === 'count' && cb.minimumCalls > cb.windowSize)
    ) {
      problems.push(
        `circuitBreaker.minimumCalls must be from 1 to the count window's size (got ${cb.minimumCalls})`,
      );
    }
    if (!isPositiveInteger(cb.halfOpenCalls))
      problems.push(`circuitBreaker.halfOpenCalls must be 1 or more (got ${cb.halfOpenCalls})`);
    if (!isPositiveInteger(cb.openDurationMs))
      problems.push(
        `circuitBreaker.openDurationMs must be a positive integer (got ${cb.openDurationMs})`,
      );
    if (!(cb.slowCallDurationMs >= 0))
      problems.push(
        `circuitBreaker.slowCallDurationMs must be 0 or more (got ${cb.slowCallDurationMs})`,
      );
  }
  if (bulkhead) {
    if (!isPositiveInteger(bulkhead.maxConcurrent))
      problems.push(`bulkhead.maxConcurrent must be 1 or more (got ${bulkhead.maxConcurrent})`);
    if (!(Number.isSafeInteger(bulkhead.maxQueue) && bulkhead.maxQueue >= 0))
      problems.push(`bulkhead.maxQueue must be 0 or more (got ${bulkhead.maxQueue})`);
  }
  return problems;
}
