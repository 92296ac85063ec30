import { circuitBreaker, CircuitState as CockatielState, CountBreaker, handleAll } from 'cockatiel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker, CircuitOpenError, type CircuitState } from './circuit-breaker.js';
import { DEFAULT_CIRCUIT_BREAKER, type CircuitBreakerOptions } from './resilience.options.js';

function breaker(options: CircuitBreakerOptions = {}) {
  const transitions: [CircuitState, CircuitState][] = [];
  const instance = new CircuitBreaker('dep', { ...DEFAULT_CIRCUIT_BREAKER, ...options }, () =>
    Date.now(),
  );
  instance.onStateChange((from, to) => transitions.push([from, to]));
  return { instance, transitions };
}

function call(instance: CircuitBreaker, failed: boolean, durationMs = 1): void {
  instance.acquire().record(failed, durationMs);
}

describe('CircuitBreaker (fake clock)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stays closed below the minimum number of calls even when they all fail (Resilience4j)', () => {
    const { instance } = breaker({ windowSize: 10, minimumCalls: 10 });
    for (let i = 0; i < 9; i++) call(instance, true);
    expect(instance.state).toBe('closed');
    call(instance, true);
    expect(instance.state).toBe('open');
  });

  it('opens at the failure-rate threshold over a count window: 3 of 5 at 60% ≥ 50%', () => {
    const { instance, transitions } = breaker({ windowSize: 5, minimumCalls: 5 });
    for (const failed of [true, false, true, false, true]) call(instance, failed);
    expect(instance.state).toBe('open');
    expect(transitions).toEqual([['closed', 'open']]);
    expect(() => instance.acquire()).toThrow(CircuitOpenError);
  });

  it('keeps only the last N outcomes in a count window', () => {
    const { instance } = breaker({ windowSize: 4, minimumCalls: 4, failureRateThreshold: 0.75 });
    for (const failed of [true, true, false, false, false, true, true]) call(instance, failed);
    // Window: false, false, true, true → 50 %.
    expect(instance.state).toBe('closed');
    call(instance, true);
    expect(instance.state).toBe('open');
  });

  it('forgets calls older than a time window', () => {
    const { instance } = breaker({ windowType: 'time', windowSize: 2, minimumCalls: 4 });
    call(instance, true);
    call(instance, true);
    call(instance, true);
    vi.advanceTimersByTime(3_000);
    call(instance, true);
    expect(instance.state).toBe('closed');
    call(instance, true);
    call(instance, true);
    call(instance, true);
    expect(instance.state).toBe('open');
  });

  it('opens on the slow-call rate when slow calls are counted', () => {
    const { instance } = breaker({
      windowSize: 4,
      minimumCalls: 4,
      slowCallDurationMs: 100,
      slowCallRateThreshold: 0.5,
    });
    call(instance, false, 150);
    call(instance, false, 10);
    call(instance, false, 10);
    expect(instance.state).toBe('closed');
    call(instance, false, 100);
    expect(instance.state).toBe('open');
  });

  it('half-opens after the open duration, lets exactly halfOpenCalls through, then closes', () => {
    const { instance, transitions } = breaker({
      windowSize: 2,
      minimumCalls: 2,
      openDurationMs: 5_000,
      halfOpenCalls: 3,
    });
    call(instance, true);
    call(instance, true);
    vi.advanceTimersByTime(3_000);
    expect(instance.state).toBe('open');
    expect(instance.remainingOpenMs).toBe(2_000);
    vi.advanceTimersByTime(2_000);
    expect(instance.state).toBe('half_open');

    const permits = [instance.acquire(), instance.acquire(), instance.acquire()];
    expect(() => instance.acquire()).toThrow(CircuitOpenError);
    for (const permit of permits) permit.record(false, 1);

    expect(instance.state).toBe('closed');
    expect(transitions).toEqual([
      ['closed', 'open'],
      ['open', 'half_open'],
      ['half_open', 'closed'],
    ]);
  });

  it('re-opens when the trial calls fail at the threshold', () => {
    const { instance, transitions } = breaker({
      windowSize: 2,
      minimumCalls: 2,
      openDurationMs: 1_000,
      halfOpenCalls: 2,
    });
    call(instance, true);
    call(instance, true);
    vi.advanceTimersByTime(1_000);
    call(instance, false);
    call(instance, true);
    expect(instance.state).toBe('open');
    expect(transitions.at(-1)).toEqual(['half_open', 'open']);
  });

  it('gives a released trial permit back (the call never reached the dependency)', () => {
    const { instance } = breaker({
      windowSize: 1,
      minimumCalls: 1,
      openDurationMs: 10,
      halfOpenCalls: 1,
    });
    call(instance, true);
    vi.advanceTimersByTime(10);
    instance.acquire().release();
    const permit = instance.acquire();
    permit.record(false, 1);
    expect(instance.state).toBe('closed');
  });
});

// Why the breaker is ours: the same scenario through cockatiel's breaker, with
// its public API. If a cockatiel release gains these, CircuitBreaker can go.
describe("cockatiel's CircuitBreakerPolicy, for comparison (fake clock)", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function opened() {
    const policy = circuitBreaker(handleAll, {
      halfOpenAfter: 5_000,
      breaker: new CountBreaker({ threshold: 0.5, size: 2, minimumNumberOfCalls: 2 }),
    });
    return policy;
  }

  async function failTwice(policy: ReturnType<typeof opened>): Promise<void> {
    for (let i = 0; i < 2; i++) {
      await policy
        .execute(() => {
          throw new Error('down');
        })
        .catch(() => undefined);
    }
  }

  it('stays open past its open duration until a call arrives (ours half-opens on a timer)', async () => {
    const policy = opened();
    await failTwice(policy);
    expect(policy.state).toBe(CockatielState.Open);

    vi.advanceTimersByTime(5_000);
    expect(policy.state).toBe(CockatielState.Open);

    await policy.execute(() => 'trial');
    expect(policy.state).toBe(CockatielState.Closed);
  });

  it('lets one trial call through and holds the others until it settles (ours lets halfOpenCalls through and fails the rest fast)', async () => {
    const policy = opened();
    await failTwice(policy);
    vi.advanceTimersByTime(5_000);

    let settleTrial!: () => void;
    const trial = policy.execute(
      () =>
        new Promise<string>((resolve) => {
          settleTrial = () => resolve('trial');
        }),
    );
    expect(policy.state).toBe(CockatielState.HalfOpen);
    let secondRan = false;
    const second = policy.execute(() => {
      secondRan = true;
      return 'second';
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(secondRan).toBe(false);

    settleTrial();
    await expect(trial).resolves.toBe('trial');
    await expect(second).resolves.toBe('second');
    expect(secondRan).toBe(true);
  });
});
