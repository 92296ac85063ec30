/** One address's failed authentications in the current window. */
export interface FailureWindow {
  /** Failures counted since the window opened. */
  count: number;
  /** Milliseconds until the window closes and the count starts again. */
  resetInMs: number;
}

/**
 * Where failed authentications are counted per client address, in fixed
 * windows that open with the first failure. Rebind it to count elsewhere.
 */
export abstract class AuthFailureStore {
  /**
   * False when the store knows no address has a failure counted: the guard
   * then skips the lookup (and reading the client address) altogether.
   */
  mayHaveFailures(): boolean {
    return true;
  }

  /** Counts one failure for `key`; returns the window after it. */
  abstract hit(key: string, windowMs: number): Promise<FailureWindow>;
  /**
   * The open window of `key`, or undefined when it has none; synchronously
   * when the store can (in memory), so a request pays no promise for it.
   */
  abstract peek(key: string): FailureWindow | undefined | Promise<FailureWindow | undefined>;
}
