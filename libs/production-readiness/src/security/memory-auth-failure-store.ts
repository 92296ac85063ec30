import { AuthFailureStore, type FailureWindow } from './auth-failure-store.js';

interface Entry {
  count: number;
  expiresAt: number;
}

/**
 * Counts in this process, for a single replica or when Redis is not
 * configured. Bounded: past `maxEntries` addresses, expired windows are
 * dropped first and then the oldest, so a flood of addresses costs memory
 * up to the bound and no more.
 */
export class MemoryAuthFailureStore extends AuthFailureStore {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  hit(key: string, windowMs: number): Promise<FailureWindow> {
    return Promise.resolve(this.hitNow(key, windowMs));
  }

  override mayHaveFailures(): boolean {
    return this.entries.size > 0;
  }

  peek(key: string): FailureWindow | undefined {
    return this.peekNow(key);
  }

  /** The synchronous form of hit(), for the Redis store's fallback. */
  hitNow(key: string, windowMs: number): FailureWindow {
    const now = this.now();
    let entry = this.live(key, now);
    if (!entry) {
      this.makeRoom(now);
      entry = { count: 0, expiresAt: now + windowMs };
      this.entries.set(key, entry);
    }
    entry.count += 1;
    return { count: entry.count, resetInMs: entry.expiresAt - now };
  }

  /** The synchronous form of peek(). */
  peekNow(key: string): FailureWindow | undefined {
    const now = this.now();
    const entry = this.live(key, now);
    return entry && { count: entry.count, resetInMs: entry.expiresAt - now };
  }

  /** Addresses currently held (for tests of the bound). */
  get size(): number {
    return this.entries.size;
  }

  private live(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private makeRoom(now: number): void {
    if (this.entries.size < this.maxEntries) return;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) this.entries.delete(key);
    }
    // Maps iterate in insertion order: the first keys are the oldest windows.
    for (const key of this.entries.keys()) {
      if (this.entries.size < this.maxEntries) break;
      this.entries.delete(key);
    }
  }
}
