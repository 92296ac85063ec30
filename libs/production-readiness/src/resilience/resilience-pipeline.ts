import { setTimeout as sleep } from 'node:timers/promises';
import { trace } from '@opentelemetry/api';
import { BulkheadPolicy, BulkheadRejectedError } from 'cockatiel';
import { ErrorCode } from '../errors/error-code.js';
import { isServiceError, ServiceError } from '../errors/service-error.js';
import { CircuitBreaker, CircuitOpenError, type CircuitState } from './circuit-breaker.js';
import type { ResolvedPolicyOptions } from './resilience.options.js';
import { fullJitterDelayMs, RetryBudget } from './retry-schedule.js';
import { isTransientError, retryAfterMsOf } from './transient-error.js';

/** How a call through a policy ended, as `policy_calls_total{outcome}` counts it. */
export type PolicyCallOutcome =
  'success' | 'failure' | 'timeout' | 'circuit_open' | 'bulkhead_full' | 'fallback';

/**
 * What happened when an attempt failed transiently, as `retries_total{outcome}`
 * counts it: `retried`, or why not (`exhausted` attempts, `budget_exhausted`,
 * `deadline_exceeded`, `not_idempotent`, `retry_after_too_long`).
 */
export type RetryOutcome =
  | 'retried'
  | 'exhausted'
  | 'budget_exhausted'
  | 'deadline_exceeded'
  | 'not_idempotent'
  | 'retry_after_too_long';

/** What a policy tells the outside (metrics, logs, health). */
export interface PolicyObserver {
  onCall?(policy: string, outcome: PolicyCallOutcome): void;
  onRetry?(
    policy: string,
    outcome: RetryOutcome,
    attempt: number,
    delayMs: number,
    error: unknown,
  ): void;
  onStateChange?(policy: string, from: CircuitState, to: CircuitState, reason: string): void;
}

/** What the wrapped function is given for each attempt. */
export interface AttemptContext {
  /** Aborts at the attempt's or the call's timeout, or with the caller's signal. */
  signal: AbortSignal;
  /** 1 for the first attempt. */
  attempt: number;
}

/** Options of one call. */
export interface ExecuteOptions<T> {
  /**
   * Whether the call may run twice: only then are its transient failures
   * retried (a POST is not, unless it carries an Idempotency-Key). @default false
   */
  idempotent?: boolean;
  /** Cancels the call. */
  signal?: AbortSignal;
  /**
   * Runs instead of failing when the dependency is unavailable: circuit open,
   * bulkhead full, timeouts, transient failures after the retries.
   */
  fallback?: (error: ServiceError) => T | Promise<T>;
}

/**
 * What runs a call under one named policy (ResiliencePolicies holds one per
 * name, built from its ResiliencePolicyOptions): its parts in a fixed order,
 * outermost first: total timeout → retry → circuit breaker → bulkhead →
 * attempt timeout.
 *
 * The bulkhead sits inside the breaker so an open circuit fails fast without
 * queueing, and inside the retry so a retry waiting out its backoff holds no
 * slot; a full bulkhead is local overload, so it is neither retried nor
 * counted against the dependency by the breaker. The attempt timeout starts
 * once a slot is taken, so queueing only spends the total timeout.
 * cockatiel provides the bulkhead (its BulkheadPolicy, public API); the
 * timeouts, the retry loop and the breaker are ours: CircuitBreaker for
 * documented behaviour cockatiel's breaker lacks, CallScope for cost, and
 * the retry loop because it decides per failure with what only it knows
 * (idempotency, the retry budget, Retry-After, the total deadline) and
 * reports each decision as `retries_total{outcome}`, which cockatiel's
 * RetryPolicy (a backoff and a handled-error filter) has no place for.
 */
export class ResiliencePipeline {
  readonly breaker?: CircuitBreaker;
  private readonly bulkhead?: BulkheadPolicy;
  private readonly budget?: RetryBudget;
  private readonly isTransient: (error: unknown) => boolean;

  constructor(
    readonly options: ResolvedPolicyOptions,
    private readonly observer: PolicyObserver = {},
    private readonly random: () => number = Math.random,
  ) {
    const { name, circuitBreaker, bulkhead, retry } = options;
    if (bulkhead) this.bulkhead = new BulkheadPolicy(bulkhead.maxConcurrent, bulkhead.maxQueue);
    if (retry.budget)
      this.budget = new RetryBudget(retry.budget.maxTokens, retry.budget.tokenRatio);
    if (circuitBreaker) {
      this.breaker = new CircuitBreaker(name, circuitBreaker);
      this.breaker.onStateChange((from, to, reason) =>
        observer.onStateChange?.(name, from, to, reason),
      );
    }
    this.isTransient = options.isTransient ?? isTransientError;
  }

  get name(): string {
    return this.options.name;
  }

  /** Runs `fn` under the policy; see ExecuteOptions. */
  async execute<T, F = T>(
    fn: (context: AttemptContext) => Promise<T> | T,
    options: ExecuteOptions<F> = {},
  ): Promise<T | F> {
    let outcome: PolicyCallOutcome = 'success';
    const call = new CallScope(options.signal);
    try {
      return await call.within(this.options.timeoutMs, () =>
        this.withRetries(fn, call, options.idempotent ?? false),
      );
    } catch (raw) {
      if (options.signal?.aborted) {
        outcome = 'failure';
        throw raw;
      }
      const error = this.toServiceError(raw);
      outcome = outcomeOf(raw, error);
      const unavailable = options.fallback && this.asUnavailable(error);
      if (options.fallback && unavailable) {
        outcome = 'fallback';
        return await options.fallback(unavailable);
      }
      throw error;
    } finally {
      call.dispose();
      this.observer.onCall?.(this.name, outcome);
    }
  }

  /** Stops the breaker's timer. */
  dispose(): void {
    this.breaker?.dispose();
  }

  private async withRetries<T>(
    fn: (context: AttemptContext) => Promise<T> | T,
    call: CallScope,
    idempotent: boolean,
  ): Promise<T> {
    const deadline = performance.now() + this.options.timeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const value = await this.attempt(fn, call, attempt);
        this.budget?.onSuccess();
        return value;
      } catch (error) {
        // Fail-fast rejections never reached the dependency: nothing to retry.
        if (error instanceof CircuitOpenError || error instanceof BulkheadRejectedError)
          throw error;
        if (call.isAborted || !this.isTransient(error)) throw error;
        this.budget?.onFailure();
        const { outcome, delayMs } = this.retryDecision(error, attempt, idempotent, deadline);
        this.observer.onRetry?.(this.name, outcome, attempt, delayMs, error);
        if (outcome !== 'retried') throw error;
        trace.getActiveSpan()?.addEvent('retry', {
          'resilience.policy': this.name,
          'retry.attempt': attempt + 1,
          'retry.delay_ms': delayMs,
          'error.type': errorType(error),
        });
        if (delayMs > 0) await sleep(delayMs, undefined, { signal: call.signal });
      }
    }
  }

  private retryDecision(
    error: unknown,
    attempt: number,
    idempotent: boolean,
    deadline: number,
  ): { outcome: RetryOutcome; delayMs: number } {
    const { maxAttempts, baseDelayMs, maxDelayMs } = this.options.retry;
    if (attempt >= maxAttempts) return { outcome: 'exhausted', delayMs: 0 };
    if (!idempotent) return { outcome: 'not_idempotent', delayMs: 0 };
    if (this.budget && !this.budget.allowsRetry) return { outcome: 'budget_exhausted', delayMs: 0 };
    const retryAfterMs = retryAfterMsOf(error);
    if (retryAfterMs !== undefined && retryAfterMs > maxDelayMs) {
      return { outcome: 'retry_after_too_long', delayMs: retryAfterMs };
    }
    const delayMs =
      retryAfterMs ?? fullJitterDelayMs(attempt, baseDelayMs, maxDelayMs, this.random);
    if (performance.now() + delayMs >= deadline) return { outcome: 'deadline_exceeded', delayMs };
    return { outcome: 'retried', delayMs };
  }

  private async attempt<T>(
    fn: (context: AttemptContext) => Promise<T> | T,
    call: CallScope,
    attempt: number,
  ): Promise<T> {
    const permit = this.breaker?.acquire();
    const run = async (): Promise<T> => {
      const startedAt = performance.now();
      try {
        const value = await call.attempt(this.options.attemptTimeoutMs, (abort) =>
          fn({
            attempt,
            // Created only when read: an AbortSignal costs microseconds on Node 20.
            get signal() {
              return abort.signal;
            },
          }),
        );
        permit?.record(false, performance.now() - startedAt);
        return value;
      } catch (raw) {
        const error =
          raw instanceof AttemptTimedOut
            ? new ServiceError(
                ErrorCode.TIMEOUT,
                `The ${this.name} dependency did not answer in time.`,
                {
                  cause: raw,
                  details: {
                    policy: this.name,
                    transient: true,
                    attemptTimeoutMs: this.options.attemptTimeoutMs,
                  },
                },
              )
            : raw;
        permit?.record(countsAgainstDependency(error), performance.now() - startedAt);
        throw error;
      }
    };
    try {
      // No signal for the queue: a call that timed out while queued fails at once when dequeued.
      return this.bulkhead ? await this.bulkhead.execute(run) : await run();
    } finally {
      // A call that never ran (full bulkhead, cancelled in the queue) gives its permit back.
      permit?.release();
    }
  }

  // The error as the fallback sees it, when it says the dependency is unavailable.
  private asUnavailable(error: unknown): ServiceError | undefined {
    if (isServiceError(error)) {
      const isUnavailable =
        error.code === ErrorCode.DEPENDENCY_UNAVAILABLE || error.code === ErrorCode.TIMEOUT;
      return isUnavailable || this.isTransient(error) ? error : undefined;
    }
    if (!this.isTransient(error)) return undefined;
    return new ServiceError(
      ErrorCode.DEPENDENCY_UNAVAILABLE,
      `The ${this.name} dependency is unavailable.`,
      { cause: error, details: { policy: this.name, transient: true } },
    );
  }

  private toServiceError(error: unknown): unknown {
    const details = { policy: this.name };
    if (error instanceof CircuitOpenError) {
      const seconds = Math.max(1, Math.ceil(error.retryAfterMs / 1000));
      return new ServiceError(
        ErrorCode.DEPENDENCY_UNAVAILABLE,
        `The ${this.name} dependency is unavailable (circuit open); try again later.`,
        {
          cause: error,
          headers: { 'Retry-After': String(seconds) },
          details: { ...details, reason: 'circuit_open', retryAfterMs: error.retryAfterMs },
        },
      );
    }
    if (error instanceof BulkheadRejectedError) {
      return new ServiceError(
        ErrorCode.DEPENDENCY_UNAVAILABLE,
        `Too many calls to the ${this.name} dependency at once; try again later.`,
        {
          cause: error,
          headers: { 'Retry-After': '1' },
          details: { ...details, reason: 'bulkhead_full' },
        },
      );
    }
    if (error instanceof CallTimedOut) {
      return new ServiceError(
        ErrorCode.TIMEOUT,
        `The ${this.name} dependency did not answer within ${this.options.timeoutMs} ms.`,
        {
          cause: error,
          details: { ...details, reason: 'timeout', timeoutMs: this.options.timeoutMs },
        },
      );
    }
    return error;
  }
}

class CallTimedOut extends Error {
  override name = 'CallTimedOut';
}

class AttemptTimedOut extends Error {
  override name = 'AttemptTimedOut';
}

/** An AbortController created only if its signal is read. */
class LazyAbort {
  private controller?: AbortController;
  private abortReason?: unknown;
  isAborted = false;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.isAborted) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  get reason(): unknown {
    return this.abortReason;
  }

  abort(reason: unknown): void {
    if (this.isAborted) return;
    this.isAborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }
}

/**
 * The timeouts and cancellation of one call, kept ours for cost. cockatiel's
 * TimeoutPolicy makes an AbortController per timeout and links it to its
 * parent's signal with an event listener, on every call. Here signals are
 * created only when someone reads them, no listener is added (unless the
 * caller passes a signal), the call's timer aborts the running attempt
 * directly, and each timeout is a timer racing the work.
 * Measured with bench/resilience-overhead.mjs (`npm run build:lib && node
 * bench/resilience-overhead.mjs`, Node 20, 2 shared vCPUs, 2026-12-04): the
 * two timeouts here cost 10.0–10.3 µs over a bare call, cockatiel's
 * wrap(timeout(10 s), timeout(3 s)) 57–64 µs (`cockatiel:timeouts`).
 * Nothing of cockatiel's is relied on; test/integration/resilience-http.spec.ts
 * pins the attempt and total timeouts end to end.
 */
class CallScope {
  private readonly call = new LazyAbort();
  private current?: LazyAbort;
  private timer?: NodeJS.Timeout;
  private fail?: (reason: unknown) => void;
  private readonly onCallerAbort?: () => void;

  constructor(private readonly callerSignal?: AbortSignal) {
    if (callerSignal) {
      this.onCallerAbort = () => this.abort(callerSignal.reason);
      callerSignal.addEventListener('abort', this.onCallerAbort, { once: true });
    }
  }

  /** Aborts when the call times out or the caller cancels it. */
  get signal(): AbortSignal {
    return this.call.signal;
  }

  get isAborted(): boolean {
    return this.call.isAborted;
  }

  /** Runs `work`, failing with CallTimedOut after `timeoutMs`. */
  within<T>(timeoutMs: number, work: () => Promise<T>): Promise<T> {
    this.callerSignal?.throwIfAborted();
    const deadline = new Promise<never>((_, reject) => {
      this.fail = reject;
      this.timer = setTimeout(
        () => this.abort(new CallTimedOut(`Timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    return Promise.race([work(), deadline]);
  }

  /** Runs one attempt with an abort of its own, failing with AttemptTimedOut after `timeoutMs`. */
  async attempt<T>(timeoutMs: number, work: (abort: LazyAbort) => Promise<T> | T): Promise<T> {
    if (this.call.isAborted) throw this.call.reason;
    const abort = new LazyAbort();
    this.current = abort;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const reason = new AttemptTimedOut(`Attempt timed out after ${timeoutMs} ms`);
        abort.abort(reason);
        reject(reason);
      }, timeoutMs);
    });
    try {
      return await Promise.race([work(abort), deadline]);
    } finally {
      clearTimeout(timer);
      if (this.current === abort) this.current = undefined;
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    if (this.onCallerAbort) this.callerSignal?.removeEventListener('abort', this.onCallerAbort);
  }

  private abort(reason: unknown): void {
    clearTimeout(this.timer);
    this.call.abort(reason);
    this.current?.abort(reason);
    this.fail?.(reason);
  }
}

// A client error (4xx ServiceError) is the caller's doing, not the dependency's failure.
function countsAgainstDependency(error: unknown): boolean {
  return !(isServiceError(error) && error.status < 500);
}

function outcomeOf(raw: unknown, error: unknown): PolicyCallOutcome {
  if (raw instanceof CircuitOpenError) return 'circuit_open';
  if (raw instanceof BulkheadRejectedError) return 'bulkhead_full';
  if (isServiceError(error) && error.code === ErrorCode.TIMEOUT) return 'timeout';
  return 'failure';
}

function errorType(error: unknown): string {
  if (isServiceError(error)) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown';
}
