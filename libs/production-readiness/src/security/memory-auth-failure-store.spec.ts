import { describe, expect, it } from 'vitest';
import { MemoryAuthFailureStore } from './memory-auth-failure-store.js';

function clock(start = 1_000_000) {
  const state = { now: start };
  return { now: () => state.now, advance: (ms: number) => (state.now += ms) };
}

describe('MemoryAuthFailureStore', () => {
  it('counts failures in a window opened by the first one', async () => {
    const time = clock();
    const store = new MemoryAuthFailureStore(100, time.now);

    expect(store.peek('10.0.0.1')).toBeUndefined();
    expect(await store.hit('10.0.0.1', 60_000)).toEqual({ count: 1, resetInMs: 60_000 });
    time.advance(20_000);
    expect(await store.hit('10.0.0.1', 60_000)).toEqual({ count: 2, resetInMs: 40_000 });
    expect(store.peek('10.0.0.1')).toEqual({ count: 2, resetInMs: 40_000 });
    expect(store.peek('10.0.0.2')).toBeUndefined();
  });

  it('forgets a window once it has closed', async () => {
    const time = clock();
    const store = new MemoryAuthFailureStore(100, time.now);
    await store.hit('10.0.0.1', 1_000);
    await store.hit('10.0.0.1', 1_000);

    time.advance(1_000);

    expect(store.peek('10.0.0.1')).toBeUndefined();
    expect(await store.hit('10.0.0.1', 1_000)).toEqual({ count: 1, resetInMs: 1_000 });
  });

  it('holds at most maxEntries addresses: expired windows go first, then the oldest', async () => {
    const time = clock();
    const store = new MemoryAuthFailureStore(3, time.now);
    await store.hit('short-lived', 100);
    await store.hit('a', 60_000);
    await store.hit('b', 60_000);
    time.advance(200);

    await store.hit('c', 60_000); // room made by dropping the expired window
    expect(store.size).toBe(3);
    expect(store.peek('a')).toMatchObject({ count: 1 });

    await store.hit('d', 60_000); // full of live windows: the oldest, a, goes
    expect(store.size).toBe(3);
    expect(store.peek('a')).toBeUndefined();
    expect(store.peek('d')).toMatchObject({ count: 1 });

    for (let i = 0; i < 1_000; i += 1) await store.hit(`flood-${i}`, 60_000);
    expect(store.size).toBe(3);
  });
});
