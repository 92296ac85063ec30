import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ErrorCode, RequestContext, ServiceError } from 'nestjs-production-readiness';
import { EssayServiceConfig } from '../../essay-service.config.js';
import { IdempotencyStore, type StoredResponse } from './idempotency.store.js';

/** The header of draft-ietf-httpapi-idempotency-key-header. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/**
 * How long a claim holds a key while its request runs, in milliseconds: a
 * claim left by a crashed process frees its key this long after it was taken.
 * A live request that outlasts it is still safe: the essay row's unique key
 * lets only one request store an essay, and the other replays it.
 */
export const CLAIM_LEASE_MS = 5_000;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** What a request with a key does, and how to find what it did. */
export interface IdempotentWork {
  /**
   * Runs the request; what it stores carries `scopedKey` (null without an
   * Idempotency-Key) so `recover` can find it.
   */
  execute(scopedKey: string | null): Promise<StoredResponse>;
  /**
   * What a request with `scopedKey` already stored, if any: the request body
   * it was for and the answer it gives. Used when the key's record has no
   * answer, because its holder crashed (or is slow) after storing its work.
   */
  recover(scopedKey: string): Promise<{ request: unknown; response: StoredResponse } | undefined>;
}

/**
 * Runs a request once per Idempotency-Key: a retry with the same key and
 * body gets the first answer, and nothing runs again; the same key with
 * another body, or while the first request still runs, is 409 CONFLICT.
 * Keys are scoped to the API key that sent them.
 *
 * A crash cannot make a key run twice: the work itself carries the key (the
 * essay row, under a unique constraint), so a retry that finds a claim with
 * no answer looks for that work and replays it, and a claim whose holder
 * died is taken over after CLAIM_LEASE_MS.
 */
@Injectable()
export class IdempotentSubmission {
  constructor(
    private readonly store: IdempotencyStore,
    private readonly config: EssayServiceConfig,
  ) {}

  async run(
    key: string | undefined,
    body: unknown,
    work: IdempotentWork,
  ): Promise<StoredResponse & { isReplay: boolean }> {
    if (key === undefined) return { ...(await work.execute(null)), isReplay: false };
    if (!KEY_PATTERN.test(key)) {
      throw new ServiceError(
        ErrorCode.VALIDATION_FAILED,
        'The Idempotency-Key header must be 1 to 255 visible ASCII characters.',
        {
          errors: [
            { field: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' },
          ],
        },
      );
    }
    const scoped = sha256(`${RequestContext.current()?.apiKeyId ?? '-'}\n${key}`);
    const fingerprint = sha256(JSON.stringify(body));
    const claim = await this.store.claim(scoped, fingerprint, CLAIM_LEASE_MS);
    switch (claim.state) {
      case 'replay':
        return { ...claim.response, isReplay: true };
      case 'mismatch':
        throw mismatch();
      case 'in_progress': {
        // The holder may have stored its essay and died before answering.
        const done = await this.recovered(scoped, fingerprint, claim.claimId, work);
        if (done) return done;
        throw new ServiceError(
          ErrorCode.CONFLICT,
          'A request with this Idempotency-Key is still being processed; retry later.',
          { headers: { 'Retry-After': '1' } },
        );
      }
    }
    // Taken over from a crashed holder, the key may already have its essay.
    const done = await this.recovered(scoped, fingerprint, claim.claimId, work);
    if (done) return done;
    let response: StoredResponse;
    try {
      response = await work.execute(scoped);
    } catch (error) {
      // A holder whose lease had passed stored the essay meanwhile (the
      // unique key refused this one): its answer is this request's too.
      const raced = await this.recovered(scoped, fingerprint, claim.claimId, work).catch(
        () => undefined,
      );
      if (raced) return raced;
      await this.store.release(scoped, claim.claimId).catch(() => undefined);
      throw error;
    }
    await this.complete(scoped, claim.claimId, fingerprint, response);
    return { ...response, isReplay: false };
  }

  /** The answer of work already stored under the key, recorded as the key's answer. */
  private async recovered(
    scoped: string,
    fingerprint: string,
    claimId: string,
    work: IdempotentWork,
  ): Promise<(StoredResponse & { isReplay: boolean }) | undefined> {
    const found = await work.recover(scoped);
    if (!found) return undefined;
    const foundFingerprint = sha256(JSON.stringify(found.request));
    await this.complete(scoped, claimId, foundFingerprint, found.response);
    if (foundFingerprint !== fingerprint) throw mismatch();
    return { ...found.response, isReplay: true };
  }

  private async complete(
    scoped: string,
    claimId: string,
    fingerprint: string,
    response: StoredResponse,
  ): Promise<void> {
    await this.store.complete(
      scoped,
      claimId,
      fingerprint,
      response,
      this.config.IDEMPOTENCY_KEY_TTL_MS,
    );
  }
}

function mismatch(): ServiceError {
  return new ServiceError(
    ErrorCode.CONFLICT,
    'This Idempotency-Key was already used with another request body; use a new key for a new request.',
  );
}
