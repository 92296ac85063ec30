import { randomUUID } from 'node:crypto';
import type { RedisConnection } from 'nestjs-production-readiness';
import {
  IdempotencyStore,
  type IdempotencyClaim,
  type StoredResponse,
} from './idempotency.store.js';

type Redis = NonNullable<RedisConnection['client']>;

interface Entry {
  fingerprint: string;
  claimId: string;
  response?: StoredResponse;
}

const PREFIX = 'essay-service:idempotency:';

// Deletes the key only when this claim still holds it (a late release must
// not free a key another request has claimed since).
const RELEASE_SCRIPT = `
local value = redis.call('GET', KEYS[1])
if value and cjson.decode(value).claimId == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** Idempotency-Keys in Redis: SET NX claims, the answer replaces the claim. */
export class RedisIdempotencyStore extends IdempotencyStore {
  constructor(private readonly redis: Redis) {
    super();
  }

  async claim(key: string, fingerprint: string, leaseMs: number): Promise<IdempotencyClaim> {
    const claimId = randomUUID();
    const entry: Entry = { fingerprint, claimId };
    const isNew = await this.redis.set(PREFIX + key, JSON.stringify(entry), 'PX', leaseMs, 'NX');
    if (isNew === 'OK') return { state: 'claimed', claimId };
    const stored = await this.redis.get(PREFIX + key);
    // Expired between the two commands: claim it on the next try.
    if (stored === null) return this.claim(key, fingerprint, leaseMs);
    const existing = JSON.parse(stored) as Entry;
    if (existing.fingerprint !== fingerprint) return { state: 'mismatch' };
    return existing.response
      ? { state: 'replay', response: existing.response }
      : { state: 'in_progress', claimId: existing.claimId };
  }

  async complete(
    key: string,
    claimId: string,
    fingerprint: string,
    response: StoredResponse,
    ttlMs: number,
  ): Promise<void> {
    const entry: Entry = { fingerprint, claimId, response };
    await this.redis.set(PREFIX + key, JSON.stringify(entry), 'PX', ttlMs);
  }

  async release(key: string, claimId: string): Promise<void> {
    await this.redis.eval(RELEASE_SCRIPT, 1, PREFIX + key, claimId);
  }
}
