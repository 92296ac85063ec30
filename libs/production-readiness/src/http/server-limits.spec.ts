import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  applyServerLimits,
  connectionCapFor,
  DEFAULT_SERVER_LIMITS,
  openFilesLimit,
  resolveServerLimits,
} from './server-limits.js';

const PROC_LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

describe('resolveServerLimits', () => {
  it('fills in the defaults', () => {
    expect(resolveServerLimits()).toEqual({
      headersTimeoutMs: 15_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      maxHeaderBytes: 16_384,
      silentConnectionTimeoutMs: 5_000,
      maxConnections: connectionCapFor(openFilesLimit()),
    });
    expect(resolveServerLimits({ keepAliveTimeoutMs: 65_000, maxConnections: 100 })).toEqual({
      ...DEFAULT_SERVER_LIMITS,
      keepAliveTimeoutMs: 65_000,
      maxConnections: 100,
    });
  });

  it('refuses limits that are not positive integers, naming the option', () => {
    expect(() => resolveServerLimits({ headersTimeoutMs: 0 })).toThrow(/headersTimeoutMs/);
    expect(() => resolveServerLimits({ maxHeaderBytes: 1.5 })).toThrow(/maxHeaderBytes/);
    expect(() => resolveServerLimits({ requestTimeoutMs: -1 })).toThrow(/requestTimeoutMs/);
    expect(() => resolveServerLimits({ silentConnectionTimeoutMs: 0 })).toThrow(
      /silentConnectionTimeoutMs/,
    );
    expect(() => resolveServerLimits({ maxConnections: 0 })).toThrow(/maxConnections/);
  });

  it('refuses a headers timeout longer than the request timeout, as Node does', () => {
    expect(() => resolveServerLimits({ headersTimeoutMs: 40_000 })).toThrow(
      /headersTimeoutMs \(40000\) must not exceed requestTimeoutMs \(30000\)/,
    );
  });
});

describe('the default connection cap', () => {
  it("reads the soft open-files limit from the kernel's table", () => {
    expect(openFilesLimit(() => PROC_LIMITS)).toBe(1024);
    expect(openFilesLimit(() => PROC_LIMITS.replace(' 1024 ', ' unlimited '))).toBeUndefined();
    expect(
      openFilesLimit(() => {
        throw new Error('ENOENT');
      }),
    ).toBeUndefined();
  });

  it('keeps a reserve of a quarter of the limit, at least 64 and at most 1024', () => {
    expect(connectionCapFor(1024)).toBe(768);
    expect(connectionCapFor(256)).toBe(192);
    expect(connectionCapFor(100)).toBe(50);
    expect(connectionCapFor(1_048_576)).toBe(1_047_552);
    expect(connectionCapFor(undefined)).toBeUndefined();
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
    expect(server.maxConnections).toBe(resolveServerLimits().maxConnections);
  });
});
