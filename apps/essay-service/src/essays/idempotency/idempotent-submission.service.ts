import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ErrorCode, RequestContext, ServiceError } from 'nestjs-production-readiness';
import { EssayServiceConfig } from '../../essay-service.config.js';
import { IdempotencyStore, type StoredResponse } from './idempotency.store.js';

/** The header of draft-ietf-httpapi-idempotency-key-header. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

// How long a claim holds while its request runs: a crash frees the key after it.
const LOCK_TTL_MS = 60_000;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Runs a request once per Idempotency-Key: a retry with the same key and
 * body gets the first answer, and nothing runs again; the same key with
 * another body, or while the first request still runs, is 409 CONFLICT.
 * Keys are scoped to the API key that sent them.
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
    handle: () => Promise<StoredResponse>,
  ): Promise<StoredResponse & { isReplay: boolean }> {
    if (key === undefined) return { ...(await handle()), isReplay: false };
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
    const claim = await this.store.claim(scoped, fingerprint, LOCK_TTL_MS);
    switch (claim.state) {
      case 'replay':
        return { ...claim.response, isReplay: true };
      case 'mismatch':
        throw new ServiceError(
          ErrorCode.CONFLICT,
          'This Idempotency-Key was already used with another request body; use a new key for a new request.',
        );
      case 'in_progress':
        throw new ServiceError(
          ErrorCode.CONFLICT,
          'A request with this Idempotency-Key is still being processed; retry later.',
          { headers: { 'Retry-After': '1' } },
        );
    }
    let response: StoredResponse;
    try {
      response = await handle();
    } catch (error) {
      await this.store.release(scoped, claim.claimId).catch(() => undefined);
      throw error;
    }
    await this.store.complete(
      scoped,
      claim.claimId,
      fingerprint,
      response,
      this.config.IDEMPOTENCY_KEY_TTL_MS,
    );
    return { ...response, isReplay: false };
  }
}
