import { describe, expect, it } from 'vitest';
import { fullJitterDelayMs, parseRetryAfter, RetryBudget } from './retry-schedule.js';

describe('fullJitterDelayMs', () => {
  it('draws from [0, min(cap, base × 2^(retry-1)))', () => {
    expect(fullJitterDelayMs(1, 100, 2_000, () => 0)).toBe(0);
    expect(fullJitterDelayMs(1, 100, 2_000, () => 0.999)).toBe(99);
    expect(fullJitterDelayMs(3, 100, 2_000, () => 0.5)).toBe(200);
    expect(fullJitterDelayMs(10, 100, 2_000, () => 0.999)).toBe(1_998);
  });

  it('never exceeds the cap, even for huge attempt numbers', () => {
    for (let retry = 1; retry < 2_000; retry += 97) {
      const delay = fullJitterDelayMs(retry, 100, 2_000);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(2_000);
    }
  });
});

describe('parseRetryAfter (RFC 9110 §10.2.3)', () => {
  it('reads delay-seconds and HTTP-dates', () => {
    const now = Date.parse('2026-11-27T00:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2_000);
    expect(parseRetryAfter('Fri, 27 Nov 2026 00:00:03 GMT', now)).toBe(3_000);
    expect(parseRetryAfter('Thu, 26 Nov 2026 00:00:00 GMT', now)).toBe(0);
  });

  it('ignores absent or unreadable values', () => {
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('-1')).toBeUndefined();
  });
});

describe('RetryBudget (gRPC retry throttling)', () => {
  it('stops retries once half the tokens are spent and recovers with successes', () => {
    const budget = new RetryBudget(10, 0.5);
    for (let i = 0; i < 4; i++) budget.onFailure();
    expect(budget.allowsRetry).toBe(true);
    budget.onFailure();
    expect(budget.allowsRetry).toBe(false);
    budget.onSuccess();
    expect(budget.allowsRetry).toBe(true);
  });
});
