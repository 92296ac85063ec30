import type { CircuitBreakerOptions } from './resilience.options.js';

/** A breaker's state; the number is `circuit_breaker_state`'s value. */
export type CircuitState = 'closed' | 'half_open' | 'open';

export const CIRCUIT_STATE_VALUE: Record<CircuitState, number> = {
  closed: 0,
  half_open: 1,
  open: 2,
};

/** The calls a window holds: how many, how many failed, how many were slow. */
interface WindowCounts {
  calls: number;
  failures: number;
  slow: number;
}

interface SlidingWindow {
  record(failed: boolean, slow: boolean, now: number): void;
  counts(now: number): WindowCounts;
  reset(): void;
}

// The last N outcomes, in a ring: 0 success, 1 failure, 2 slow success, 3 slow failure.
class CountWindow implements SlidingWindow {
  private readonly ring: Int8Array;
  private next = 0;
  private size = 0;
  private readonly totals: WindowCounts = { calls: 0, failures: 0, slow: 0 };

  constructor(capacity: number) {
    this.ring = new Int8Array(capacity);
  }

  record(failed: boolean, slow: boolean): void {
    if (this.size === this.ring.length) this.apply(this.ring[this.next], -1);
    else this.size++;
    const outcome = (failed ? 1 : 0) | (slow ? 2 : 0);
    this.ring[this.next] = outcome;
    this.apply(outcome, 1);
    this.next = (this.next + 1) % this.ring.length;
  }

  counts(): WindowCounts {
    return { ...this.totals };
  }

  reset(): void {
    this.next = 0;
    this.size = 0;
    this.totals.calls = this.totals.failures = this.totals.slow = 0;
  }

  private apply(outcome: number, sign: 1 | -1): void {
    this.totals.calls += sign;
    if (outcome & 1) this.totals.failures += sign;
    if (outcome & 2) this.totals.slow += sign;
  }
}

// The outcomes of the last N seconds, in one bucket per second (Resilience4j's TIME_BASED).
class TimeWindow implements SlidingWindow {
  private readonly buckets: (WindowCounts & { second: number })[];

  constructor(seconds: number) {
    this.buckets = Array.from({ length: seconds }, () => ({
      second: -1,
      calls: 0,
      failures: 0,
      slow: 0,
    }));
  }

  record(failed: boolean, slow: boolean, now: number): void {
    const second = Math.floor(now / 1000);
    const bucket = this.buckets[second % this.buckets.length];
    if (bucket.second !== second) Object.assign(bucket, { second, calls: 0, failures: 0, slow: 0 });
    bucket.calls++;
    if (failed) bucket.failures++;
    if (slow) bucket.slow++;
  }

  counts(now: number): WindowCounts {
    const oldest = Math.floor(now / 1000) - this.buckets.length;
    const totals = { calls: 0, failures: 0, slow: 0 };
    for (const bucket of this.buckets) {
      if (bucket.second <= oldest) continue;
      totals.calls += bucket.calls;
      totals.failures += bucket.failures;
      totals.slow += bucket.slow;
    }
    return totals;
  }

  reset(): void {
    for (const bucket of this.buckets) bucket.second = -1;
  }
}

/** Permission to make one call through the breaker; settle it exactly once. */
export interface CircuitPermit {
  /** The call finished: record its outcome and duration. */
  record(failed: boolean, durationMs: number): void;
  /** The call never reached the dependency (a full bulkhead): record nothing. */
  release(): void;
}

/** Thrown (before any call is made) while the circuit is open or its trial calls are taken. */
export class CircuitOpenError extends Error {
  constructor(
    readonly circuit: string,
    /** When a trial call may be let through, in ms from now. */
    readonly retryAfterMs: number,
  ) {
    super(`Circuit "${circuit}" is open: calls fail fast for another ${retryAfterMs} ms`);
    this.name = 'CircuitOpenError';
  }
}

export type StateChangeListener = (from: CircuitState, to: CircuitState, reason: string) => void;

/**
 * A circuit breaker with Resilience4j's state machine, kept ours because
 * cockatiel's CircuitBreakerPolicy (with CountBreaker or SamplingBreaker)
 * cannot give what docs/resilience.md documents:
 * - `halfOpenCalls`: cockatiel lets one trial call through when half-open and
 *   holds every other call until it settles; here `halfOpenCalls` go through
 *   and the rest fail fast with CircuitOpenError (a 503 with Retry-After);
 * - `slowCallDurationMs` / `slowCallRateThreshold`: cockatiel's IBreaker is told
 *   success or failure, never a call's duration, so it has no slow-call rate;
 * - `windowType: 'time'` with `minimumCalls`: SamplingBreaker counts a time
 *   window but its minimum is a rate (`minimumRps`), not a number of calls;
 * - the open → half-open transition on a timer, so `circuit_breaker_state`,
 *   the transition log and /healthz show it when it happens: cockatiel moves
 *   to half-open only when the next call arrives.
 * circuit-breaker.spec.ts pins each of these, and cockatiel's own behaviour
 * for the first and last (so a cockatiel that gains them is noticed).
 * Cost, bench/resilience-overhead.mjs (`npm run build:lib && node
 * bench/resilience-overhead.mjs`, Node 20, 2 shared vCPUs, 2026-12-04): the
 * full policy with this breaker 12.8–13.6 µs over a bare call, cockatiel's
 * wrap(timeout, retry, circuitBreaker(CountBreaker), bulkhead, timeout) with
 * the same defaults 60–63 µs.
 */
export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private readonly window: SlidingWindow;
  private readonly trial: WindowCounts = { calls: 0, failures: 0, slow: 0 };
  private trialPermits = 0;
  private openedAt = 0;
  private timer?: NodeJS.Timeout;
  private readonly listeners: StateChangeListener[] = [];

  constructor(
    readonly name: string,
    private readonly options: Required<CircuitBreakerOptions>,
    private readonly now: () => number = Date.now,
  ) {
    this.window =
      options.windowType === 'time'
        ? new TimeWindow(options.windowSize)
        : new CountWindow(options.windowSize);
  }

  get state(): CircuitState {
    return this.current;
  }

  /** When the open circuit lets trial calls through, in ms from now (0 when not open). */
  get remainingOpenMs(): number {
    if (this.current !== 'open') return 0;
    return Math.max(0, this.openedAt + this.options.openDurationMs - this.now());
  }

  onStateChange(listener: StateChangeListener): void {
    this.listeners.push(listener);
  }

  /** A permit for one call, or CircuitOpenError without calling anything. */
  acquire(): CircuitPermit {
    if (this.current === 'open') {
      // The timer normally moves it on; this covers a clock that jumped.
      if (this.remainingOpenMs > 0) throw new CircuitOpenError(this.name, this.remainingOpenMs);
      this.transition('half_open', 'open duration elapsed');
    }
    if (this.current === 'half_open') {
      if (this.trialPermits >= this.options.halfOpenCalls) {
        throw new CircuitOpenError(this.name, 0);
      }
      this.trialPermits++;
    }
    const state = this.current;
    let isSettled = false;
    return {
      record: (failed, durationMs) => {
        if (isSettled) return;
        isSettled = true;
        this.record(state, failed, durationMs);
      },
      release: () => {
        if (isSettled) return;
        isSettled = true;
        if (state === 'half_open' && this.current === 'half_open') this.trialPermits--;
      },
    };
  }

  /** Stops the open-state timer (app shutdown). */
  dispose(): void {
    clearTimeout(this.timer);
  }

  private record(stateAtStart: CircuitState, failed: boolean, durationMs: number): void {
    const slow =
      this.options.slowCallDurationMs > 0 && durationMs >= this.options.slowCallDurationMs;
    // An outcome of a call let through in an earlier state does not count in this one.
    if (stateAtStart !== this.current) return;
    if (this.current === 'closed') {
      const now = this.now();
      this.window.record(failed, slow, now);
      const verdict = this.verdict(this.window.counts(now), this.options.minimumCalls);
      if (verdict) this.open(verdict);
      return;
    }
    if (this.current === 'half_open') {
      this.trial.calls++;
      if (failed) this.trial.failures++;
      if (slow) this.trial.slow++;
      if (this.trial.calls < this.options.halfOpenCalls) return;
      const verdict = this.verdict(this.trial, this.options.halfOpenCalls);
      if (verdict) this.open(`trial calls: ${verdict}`);
      else this.transition('closed', `${this.trial.calls} trial calls below the thresholds`);
    }
  }

  private verdict(counts: WindowCounts, minimumCalls: number): string | undefined {
    if (counts.calls < minimumCalls) return undefined;
    const failureRate = counts.failures / counts.calls;
    const slowRate = counts.slow / counts.calls;
    const percent = (rate: number) => `${Math.round(rate * 100)}%`;
    if (failureRate >= this.options.failureRateThreshold) {
      return `failure rate ${percent(failureRate)} of ${counts.calls} calls ≥ ${percent(this.options.failureRateThreshold)}`;
    }
    if (this.options.slowCallDurationMs > 0 && slowRate >= this.options.slowCallRateThreshold) {
      return `slow-call rate ${percent(slowRate)} of ${counts.calls} calls ≥ ${percent(this.options.slowCallRateThreshold)}`;
    }
    return undefined;
  }

  private open(reason: string): void {
    this.openedAt = this.now();
    this.transition('open', reason);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.current === 'open') this.transition('half_open', 'open duration elapsed');
    }, this.options.openDurationMs);
    // An open breaker must not keep the process alive.
    this.timer.unref?.();
  }

  private transition(to: CircuitState, reason: string): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    this.trialPermits = 0;
    this.trial.calls = this.trial.failures = this.trial.slow = 0;
    if (to === 'closed') this.window.reset();
    for (const listener of this.listeners) listener(from, to, reason);
  }
}
