import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { applyServerLimits, DEFAULT_SERVER_LIMITS, resolveServerLimits } from './server-limits.js';

describe('resolveServerLimits', () => {
  it('fills in the defaults', () => {
    expect(resolveServerLimits()).toEqual({
      headersTimeoutMs: 15_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      maxHeaderBytes: 16_384,
    });
    expect(resolveServerLimits({ keepAliveTimeoutMs: 65_000 })).toEqual({
      ...DEFAULT_SERVER_LIMITS,
      keepAliveTimeoutMs: 65_000,
    });
  });

  it('refuses limits that are not positive integers, naming the option', () => {
    expect(() => resolveServerLimits({ headersTimeoutMs: 0 })).toThrow(/headersTimeoutMs/);
    expect(() => resolveServerLimits({ maxHeaderBytes: 1.5 })).toThrow(/maxHeaderBytes/);
    expect(() => resolveServerLimits({ requestTimeoutMs: -1 })).toThrow(/requestTimeoutMs/);
  });

  it('refuses a headers timeout longer than the request timeout, as Node does', () => {
    expect(() => resolveServerLimits({ headersTimeoutMs: 40_000 })).toThrow(
      /headersTimeoutMs \(40000\) must not exceed requestTimeoutMs \(30000\)/,
    );
  });
});

describe('applyServerLimits', () => {
  it('sets the limits on the server, and a sweep short enough to honour them', () => {
    const server = createServer() as ReturnType<typeof createServer> & {
      connectionsCheckingInterval?: number;
      maxHeaderSize?: number;
    };

    applyServerLimits(server, resolveServerLimits({ headersTimeoutMs: 2_000 }));

    expect(server.headersTimeout).toBe(2_000);
    expect(server.requestTimeout).toBe(30_000);
    expect(server.keepAliveTimeout).toBe(5_000);
    expect(server.maxHeaderSize).toBe(16_384);
    expect(server.connectionsCheckingInterval).toBe(500);
  });
});
