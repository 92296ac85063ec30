/** The first answer to a request, replayed to its retries. */
export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** What claiming a key found. */
export type IdempotencyClaim =
  /** The key is new: this request runs; complete() or release() it. */
  | { state: 'claimed'; claimId: string }
  /** A request with the same key and body already ran: its answer. */
  | { state: 'replay'; response: StoredResponse }
  /** The key came with another body. */
  | { state: 'mismatch' }
  /**
   * A request with the key and body holds it and has not answered: still
   * running, or crashed within its lease. `claimId` is the holder's.
   */
  | { state: 'in_progress'; claimId: string };

/**
 * Where Idempotency-Keys live: Redis when REDIS_URL is set (shared by every
 * replica), the database otherwise. A claim holds for `leaseMs` (then the
 * next request with the key takes it over: a crashed request frees its key),
 * an answer for IDEMPOTENCY_KEY_TTL_MS.
 */
export abstract class IdempotencyStore {
  abstract claim(key: string, fingerprint: string, leaseMs: number): Promise<IdempotencyClaim>;

  /** Stores the answer; also by a request that found what a crashed holder did. */
  abstract complete(
    key: string,
    claimId: string,
    fingerprint: string,
    response: StoredResponse,
    ttlMs: number,
  ): Promise<void>;

  /** Frees the key after the request failed, so a retry runs again. */
  abstract release(key: string, claimId: string): Promise<void>;
}
