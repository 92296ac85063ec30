import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AuthFailureStore, type FailureWindow } from './auth-failure-store.js';
import { MemoryAuthFailureStore } from './memory-auth-failure-store.js';

const WARN_INTERVAL_MS = 60_000;

/**
 * Counts in Redis, so every replica of the service sees the same count for
 * an address and the limit holds across them: a fixed window per address,
 * opened by `SET key 0 PX window NX` and counted by `INCR` in one MULTI.
 * When Redis fails, the counting goes on in this process (and a warning is
 * logged at most once a minute) rather than failing the request.
 */
export class RedisAuthFailureStore extends AuthFailureStore {
  private readonly logger = new Logger('Security');
  private readonly fallback: MemoryAuthFailureStore;
  private lastWarnedAt = 0;

  constructor(
    private readonly client: Redis,
    private readonly keyPrefix: string,
    fallbackMaxEntries = 10_000,
  ) {
    super();
    this.fallback = new MemoryAuthFailureStore(fallbackMaxEntries);
  }

  async hit(key: string, windowMs: number): Promise<FailureWindow> {
    const redisKey = this.keyPrefix + key;
    try {
      const results = await this.client
        .multi()
        .set(redisKey, '0', 'PX', windowMs, 'NX')
        .incr(redisKey)
        .pttl(redisKey)
        .exec();
      const count = Number(resultAt(results, 1));
      const pttl = Number(resultAt(results, 2));
      return { count, resetInMs: pttl > 0 ? pttl : windowMs };
    } catch (error) {
      this.warn(error);
      return this.fallback.hitNow(key, windowMs);
    }
  }

  // Failures counted here while Redis was away still count: the larger of
  // the two windows decides.
  async peek(key: string): Promise<FailureWindow | undefined> {
    const redisKey = this.keyPrefix + key;
    const local = this.fallback.peekNow(key);
    try {
      const results = await this.client.multi().get(redisKey).pttl(redisKey).exec();
      const count = resultAt(results, 0);
      const pttl = Number(resultAt(results, 1));
      if (count === null || pttl <= 0) return local;
      const shared = { count: Number(count), resetInMs: pttl };
      return local && local.count > shared.count ? local : shared;
    } catch (error) {
      this.warn(error);
      return local;
    }
  }

  private warn(error: unknown): void {
    const now = Date.now();
    if (now - this.lastWarnedAt < WARN_INTERVAL_MS) return;
    this.lastWarnedAt = now;
    this.logger.warn(
      `Counting failed authentications in this process only: Redis failed (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

function resultAt(results: Array<[Error | null, unknown]> | null, index: number): unknown {
  if (!results) throw new Error('the transaction was aborted');
  const [error, value] = results[index];
  if (error) throw error;
  return value;
}
