import { isServiceError } from 'nestjs-production-readiness';
import { describe, expect, it } from 'vitest';
import type { EssayServiceConfig } from '../../essay-service.config.js';
import {
  IdempotencyStore,
  type IdempotencyClaim,
  type StoredResponse,
} from './idempotency.store.js';
import { IdempotentSubmission, type IdempotentWork } from './idempotent-submission.service.js';

interface Entry {
  fingerprint: string;
  claimId: string;
  response?: StoredResponse;
}

/** The stores' contract in a Map: a claim is held until completed or released. */
class MapStore extends IdempotencyStore {
  readonly entries = new Map<string, Entry>();
  private claims = 0;

  claim(key: string, fingerprint: string): Promise<IdempotencyClaim> {
    const entry = this.entries.get(key);
    if (!entry) {
      const claimId = `claim-${++this.claims}`;
      this.entries.set(key, { fingerprint, claimId });
      return Promise.resolve({ state: 'claimed', claimId });
    }
    if (entry.fingerprint !== fingerprint) return Promise.resolve({ state: 'mismatch' });
    return Promise.resolve(
      entry.response
        ? { state: 'replay', response: entry.response }
        : { state: 'in_progress', claimId: entry.claimId },
    );
  }

  complete(
    key: string,
    claimId: string,
    fingerprint: string,
    response: StoredResponse,
  ): Promise<void> {
    if (this.entries.get(key)?.claimId === claimId) {
      this.entries.set(key, { fingerprint, claimId, response });
    }
    return Promise.resolve();
  }

  release(key: string, claimId: string): Promise<void> {
    if (this.entries.get(key)?.claimId === claimId) this.entries.delete(key);
    return Promise.resolve();
  }
}

const BODY = { title: 'Cats', text: 'The cat sat.' };
const accepted = (id: string): StoredResponse => ({ status: 202, headers: {}, body: { id } });

/** Work whose stored essays, by scoped key, survive the "process" that made them. */
function essayWork(stored: Map<string, { request: unknown; id: string }>) {
  let created = 0;
  const work: IdempotentWork = {
    execute: (scopedKey) => {
      if (scopedKey && stored.has(scopedKey)) return Promise.reject(new Error('unique violation'));
      const id = `essay-${++created}`;
      if (scopedKey) stored.set(scopedKey, { request: BODY, id });
      return Promise.resolve(accepted(id));
    },
    recover: (scopedKey) => {
      const essay = stored.get(scopedKey);
      return Promise.resolve(essay && { request: essay.request, response: accepted(essay.id) });
    },
  };
  return { work, created: () => created };
}

async function waitForEssays(stored: Map<string, unknown>, count: number): Promise<void> {
  while (stored.size < count) await new Promise((resolve) => setImmediate(resolve));
}

const submissionWith = (store: IdempotencyStore) =>
  new IdempotentSubmission(store, { IDEMPOTENCY_KEY_TTL_MS: 60_000 } as EssayServiceConfig);

describe('IdempotentSubmission after a crash', () => {
  it('replays the essay a dead holder stored before answering, and records it as the answer', async () => {
    const store = new MapStore();
    const stored = new Map<string, { request: unknown; id: string }>();
    const { work, created } = essayWork(stored);
    // The first request claims the key and stores its essay, then its
    // process dies: it never answers, and nothing releases the claim.
    void submissionWith(store).run('k', BODY, {
      execute: async (scopedKey) => {
        await work.execute(scopedKey);
        return new Promise(() => undefined);
      },
      recover: () => Promise.resolve(undefined),
    });
    await waitForEssays(stored, 1);
    const [key] = [...stored.keys()];

    const retry = await submissionWith(store).run('k', BODY, work);

    expect(retry).toEqual({ ...accepted('essay-1'), isReplay: true });
    expect(created()).toBe(1);
    expect(store.entries.get(key)?.response).toEqual(accepted('essay-1'));
  });

  it('answers 409 with Retry-After while a claim holds and nothing was stored', async () => {
    const store = new MapStore();
    const { work } = essayWork(new Map());
    const first = submissionWith(store).run('k', BODY, {
      execute: () => new Promise(() => undefined),
      recover: () => Promise.resolve(undefined),
    });
    void first;
    await new Promise((resolve) => setImmediate(resolve));

    const error: unknown = await submissionWith(store)
      .run('k', BODY, work)
      .catch((caught: unknown) => caught);

    expect(isServiceError(error) && error.code).toBe('CONFLICT');
    expect(isServiceError(error) && error.headers).toEqual({ 'Retry-After': '1' });
  });

  it('replays the essay of a holder that stored it first, when its own insert is refused', async () => {
    const store = new MapStore();
    const stored = new Map<string, { request: unknown; id: string }>();
    const { work, created } = essayWork(stored);
    // A slow holder whose lease passed stores its essay while this request runs.
    let hasChecked = false;
    const racing: IdempotentWork = {
      execute: async (scopedKey) => {
        stored.set(scopedKey!, { request: BODY, id: 'essay-of-the-slow-holder' });
        return work.execute(scopedKey);
      },
      recover: async (scopedKey) => {
        if (!hasChecked) {
          hasChecked = true;
          return undefined;
        }
        return work.recover(scopedKey);
      },
    };

    const answer = await submissionWith(store).run('k', BODY, racing);

    expect(answer).toEqual({ ...accepted('essay-of-the-slow-holder'), isReplay: true });
    expect(created()).toBe(0);
  });

  it('refuses another body under a key whose essay a dead holder stored', async () => {
    const store = new MapStore();
    const stored = new Map<string, { request: unknown; id: string }>();
    const { work } = essayWork(stored);
    await submissionWith(store).run('k', BODY, work);
    // The key's record is lost (expired lease, a Redis without persistence); the essay stays.
    store.entries.clear();

    const error: unknown = await submissionWith(store)
      .run('k', { ...BODY, title: 'Dogs' }, work)
      .catch((caught: unknown) => caught);

    expect(isServiceError(error) && error.code).toBe('CONFLICT');
    const replay = await submissionWith(store).run('k', BODY, work);
    expect(replay).toEqual({ ...accepted('essay-1'), isReplay: true });
  });
});
