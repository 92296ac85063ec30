import { randomUUID } from 'node:crypto';
import { LessThan, type Repository } from 'typeorm';
import { IdempotencyKey } from './idempotency-key.entity.js';
import {
  IdempotencyStore,
  type IdempotencyClaim,
  type StoredResponse,
} from './idempotency.store.js';

/**
 * Idempotency-Keys in the database: the primary key makes the claim atomic
 * (INSERT … ON CONFLICT DO NOTHING on PostgreSQL, INSERT OR IGNORE on SQLite),
 * and the row that won tells who holds it.
 */
export class DatabaseIdempotencyStore extends IdempotencyStore {
  constructor(private readonly keys: Repository<IdempotencyKey>) {
    super();
  }

  async claim(key: string, fingerprint: string, leaseMs: number): Promise<IdempotencyClaim> {
    const now = new Date();
    // Expired keys go first, this one included; the expiry index keeps it cheap.
    await this.keys.delete({ expiresAt: LessThan(now) });
    const claimId = randomUUID();
    await this.keys
      .createQueryBuilder()
      .insert()
      .values({
        key,
        fingerprint,
        claimId,
        response: null,
        expiresAt: new Date(now.getTime() + leaseMs),
      })
      .orIgnore()
      .execute();
    const row = await this.keys.findOneBy({ key });
    if (!row) return this.claim(key, fingerprint, leaseMs);
    if (row.claimId === claimId) return { state: 'claimed', claimId };
    if (row.fingerprint !== fingerprint) return { state: 'mismatch' };
    return row.response
      ? { state: 'replay', response: JSON.parse(row.response) as StoredResponse }
      : { state: 'in_progress', claimId: row.claimId };
  }

  async complete(
    key: string,
    claimId: string,
    fingerprint: string,
    response: StoredResponse,
    ttlMs: number,
  ): Promise<void> {
    await this.keys.update(
      { key, claimId },
      { fingerprint, response: JSON.stringify(response), expiresAt: new Date(Date.now() + ttlMs) },
    );
  }

  async release(key: string, claimId: string): Promise<void> {
    await this.keys.delete({ key, claimId });
  }
}
