import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AuthFailureStore, type FailureWindow } from './auth-failure-store.js';
import { MemoryAuthFailureStore } from './memory-auth-failure-store.js';
import { settleWithin } from '../resilience/settle-within.js';

const WARN_INTERVAL_MS = 60_000;
// After Redis failed or was too slow, requests don't wait for it again for this long.
const RETRY_REDIS_AFTER_MS = 1_000;

class RedisTooSlow extends Error {
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

/**
 * Counts in Redis, so every replica of the service sees the same count for
 * an address and the limit holds across them: a fixed window per address,
 * opened by `SET key 0 PX window NX` and counted by `INCR` in one MULTI.
 *
 * Redis holds only these counts, which a request with a valid key does not
 * need to be served: each call waits at most `lookupTimeoutMs` for Redis.
 * When Redis fails or is slower than that, the counting goes on in this
 * process (a warning is logged at most once a minute), Redis is left alone
 * for a second, and the request is decided on the local counts, so a Redis
 * outage neither fails nor slows the requests it guards.
 */
export class RedisAuthFailureStore extends AuthFailureStore {
  private readonly logger = new Logger('Security');
  private readonly fallback: MemoryAuthFailureStore;
  private lastWarnedAt = 0;
  private redisFailedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly client: Redis,
    private readonly keyPrefix: string,
    fallbackMaxEntries = 10_000,
    private readonly lookupTimeoutMs = 50,
  ) {
    super();
    this.fallback = new MemoryAuthFailureStore(fallbackMaxEntries);
  }

  async hit(key: string, windowMs: number): Promise<FailureWindow> {
    const redisKey = this.keyPrefix + key;
    // Counted here too: if Redis loses this one, the local count still has it.
    const local = this.fallback.hitNow(key, windowMs);
    if (!this.isRedisWorthAsking()) return local;
    try {
      const results = await this.withinTimeout(
        this.client
          .multi()
          .set(redisKey, '0', 'PX', windowMs, 'NX')
          .incr(redisKey)
          .pttl(redisKey)
          .exec(),
      );
      const count = Number(resultAt(results, 1));
      const pttl = Number(resultAt(results, 2));
      const shared = { count, resetInMs: pttl > 0 ? pttl : windowMs };
      return local.count > shared.count ? local : shared;
    } catch (error) {
      this.redisFailed(error);
      return local;
    }
  }

  // Failures counted here while Redis was away still count: the larger of
  // the two windows decides.
  async peek(key: string): Promise<FailureWindow | undefined> {
    const local = this.fallback.peekNow(key);
    if (!this.isRedisWorthAsking()) return local;
    const redisKey = this.keyPrefix + key;
    try {
      const results = await this.withinTimeout(
        this.client.multi().get(redisKey).pttl(redisKey).exec(),
      );
      const count = resultAt(results, 0);
      const pttl = Number(resultAt(results, 1));
      if (count === null || pttl <= 0) return local;
      const shared = { count: Number(count), resetInMs: pttl };
      return local && local.count > shared.count ? local : shared;
    } catch (error) {
      this.redisFailed(error);
      return local;
    }
  }

  private isRedisWorthAsking(): boolean {
    return Date.now() - this.redisFailedAt >= RETRY_REDIS_AFTER_MS;
  }

  private withinTimeout<T>(command: Promise<T>): Promise<T> {
    return settleWithin(
      command,
      this.lookupTimeoutMs,
      () => new RedisTooSlow(this.lookupTimeoutMs),
    );
  }

  private redisFailed(error: unknown): void {
    const now = Date.now();
    this.redisFailedAt = now;
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
