import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { apiKeyIdOf, ApiKeySet } from './api-key-set.js';

const KEY = 'k3y-for-the-essay-service-0001';
const OTHER = 'another-key-for-rotation-0002';
const hashOf = (key: string) => createHash('sha256').update(key).digest('hex');

describe('ApiKeySet', () => {
  it('accepts a plain key and a sha256 entry alike, and nothing else', () => {
    const keys = ApiKeySet.parse([KEY, `sha256:${hashOf(OTHER)}`]);

    expect(keys.match(KEY)).toBe(apiKeyIdOf(KEY));
    expect(keys.match(OTHER)).toBe(apiKeyIdOf(OTHER));
    expect(keys.match('not-a-configured-key-000')).toBeUndefined();
  });

  it('refuses the stored hash itself, in either spelling', () => {
    const keys = ApiKeySet.parse([`sha256:${hashOf(KEY)}`]);

    expect(keys.match(`sha256:${hashOf(KEY)}`)).toBeUndefined();
    expect(keys.match(hashOf(KEY))).toBeUndefined();
    expect(keys.match(KEY)).toBe(apiKeyIdOf(KEY));
  });

  it('refuses near misses: one character off, a prefix, a longer key, other case, padding', () => {
    const keys = ApiKeySet.parse([KEY]);

    for (const wrong of [
      `${KEY.slice(0, -1)}2`,
      KEY.slice(0, -1),
      `${KEY}0`,
      KEY.toUpperCase(),
      ` ${KEY}`,
      '',
    ]) {
      expect(keys.match(wrong), wrong).toBeUndefined();
    }
  });

  it('reads the hex of a sha256 entry in any case', () => {
    const keys = ApiKeySet.parse([`SHA256:${hashOf(KEY).toUpperCase()}`]);

    expect(keys.match(KEY)).toBe(apiKeyIdOf(KEY));
  });

  it('gives each key an 8-hex id from its digest, the same for its plain and hashed entry', () => {
    const plain = ApiKeySet.parse([KEY]);
    const hashed = ApiKeySet.parse([`sha256:${hashOf(KEY)}`]);

    expect(plain.ids).toEqual([hashOf(KEY).slice(0, 8)]);
    expect(hashed.ids).toEqual(plain.ids);
    expect(plain.ids[0]).not.toContain(KEY.slice(0, 4));
  });

  it('is empty without entries (authentication off)', () => {
    expect(ApiKeySet.parse([]).isEmpty).toBe(true);
    expect(ApiKeySet.parse([KEY]).isEmpty).toBe(false);
  });

  it('rejects malformed entries by position, never printing them', () => {
    const attempt = () => ApiKeySet.parse([KEY, 'short-secret', 'sha256:abc'], 'METRICS_KEYS');

    expect(attempt).toThrow(/METRICS_KEYS: entry 2 is not a key/);
    expect(attempt).not.toThrow(/short-secret/);
    expect(() => ApiKeySet.parse(['sha256:1234'])).toThrow(/entry 1/);
    expect(() => ApiKeySet.parse(['has a space in it 123'])).toThrow(/entry 1/);
  });
});

// The comparison must not reveal how much of a guess was right. Timing a
// single call is noise; instead both guesses are timed in many interleaved
// batches and their medians compared. The same harness run on a naive
// early-exit comparison shows the leak plainly, so a pass is not just a
// harness too blunt to see anything.
describe('ApiKeySet timing', () => {
  const secret = `K${'x'.repeat(1022)}Z`;
  const sharesPrefix = `K${'x'.repeat(1022)}Y`; // right length, wrong only at the end
  const sharesNothing = `Q${'y'.repeat(1022)}Y`; // right length, wrong from the start

  function batchNs(compare: (guess: string) => unknown, guess: string): bigint {
    const start = process.hrtime.bigint();
    for (let i = 0; i < 50; i += 1) compare(guess);
    return process.hrtime.bigint() - start;
  }

  function medianRatio(compare: (guess: string) => unknown): number {
    const prefixTimes: bigint[] = [];
    const nothingTimes: bigint[] = [];
    for (let i = 0; i < 20; i += 1) compare(i % 2 ? sharesPrefix : sharesNothing); // warm up
    for (let round = 0; round < 400; round += 1) {
      // Alternate which goes first, so drift in the machine's speed hits both.
      if (round % 2 === 0) {
        prefixTimes.push(batchNs(compare, sharesPrefix));
        nothingTimes.push(batchNs(compare, sharesNothing));
      } else {
        nothingTimes.push(batchNs(compare, sharesNothing));
        prefixTimes.push(batchNs(compare, sharesPrefix));
      }
    }
    const median = (times: bigint[]) =>
      Number([...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[times.length >> 1]);
    return median(prefixTimes) / median(nothingTimes);
  }

  it('sees the leak of a naive early-exit comparison (the harness works)', () => {
    const naive = (guess: string) => {
      for (let i = 0; i < secret.length; i += 1) if (guess[i] !== secret[i]) return false;
      return true;
    };

    expect(medianRatio(naive)).toBeGreaterThan(3);
  });

  it('shows no difference between a long shared prefix and none', () => {
    const keys = ApiKeySet.parse([secret, OTHER]);
    expect(keys.match(sharesPrefix)).toBeUndefined();

    const ratio = medianRatio((guess) => keys.match(guess));

    expect(ratio).toBeGreaterThan(0.85);
    expect(ratio).toBeLessThan(1.15);
  });
});
