import { describe, expect, it } from 'vitest';
import { ErrorCode, ServiceError } from '../errors/service-error.js';
import { isTransientError, retryAfterMsOf } from './transient-error.js';

const withCode = (code: string) => Object.assign(new Error(code), { code });

describe('isTransientError', () => {
  it.each([
    'ECONNREFUSED',
    'ECONNRESET',
    'UND_ERR_SOCKET',
    'UND_ERR_CONNECT_TIMEOUT',
    '40001',
    '40P01',
    '08006',
    '57P01',
  ])('retries %s', (code) => {
    expect(isTransientError(withCode(code))).toBe(true);
  });

  it.each([408, 429, 502, 503, 504])('retries an error with status %i', (status) => {
    expect(isTransientError(Object.assign(new Error('x'), { status }))).toBe(true);
  });

  it('does not retry 400, 500, unique violations or plain errors', () => {
    expect(isTransientError(Object.assign(new Error('x'), { status: 400 }))).toBe(false);
    expect(isTransientError(Object.assign(new Error('x'), { status: 500 }))).toBe(false);
    expect(isTransientError(withCode('23505'))).toBe(false);
    expect(isTransientError(new Error('boom'))).toBe(false);
  });

  it('follows cause chains, and trusts a ServiceError only when it says transient', () => {
    expect(isTransientError(new TypeError('fetch failed', { cause: withCode('ECONNRESET') }))).toBe(
      true,
    );
    const unavailable = new ServiceError(ErrorCode.DEPENDENCY_UNAVAILABLE, 'down', {
      cause: withCode('ECONNRESET'),
    });
    expect(isTransientError(unavailable)).toBe(false);
    const marked = new ServiceError(ErrorCode.DEPENDENCY_UNAVAILABLE, 'down', {
      details: { transient: true, retryAfterMs: 1_000 },
    });
    expect(isTransientError(marked)).toBe(true);
    expect(retryAfterMsOf(marked)).toBe(1_000);
  });

  it('recognises ioredis command timeouts', () => {
    expect(isTransientError(new Error('Command timed out'))).toBe(true);
  });
});
