import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitForOptions {
  /** Pause between two probes. @default 50 */
  intervalMs?: number;
  /** What is awaited, for the timeout message. */
  description?: string;
  /** Stops waiting at once, failing with the signal's reason (say, the process under test died). */
  signal?: AbortSignal;
}

/**
 * Polls `probe` until it returns something other than `undefined`, and returns
 * that. A probe that throws counts as "not yet". Fails after `timeoutMs` with
 * the description and the last error seen, or as soon as `signal` aborts.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  options: WaitForOptions = {},
): Promise<T> {
  const { intervalMs = 50, description = 'the condition', signal } = options;
  const deadline = Date.now() + timeoutMs;
  let lastProblem: string;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const value = await probe();
      if (value !== undefined) return value;
      lastProblem = 'probe returned undefined';
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${description} (${lastProblem})`,
      );
    }
    await sleep(intervalMs, undefined, { signal }).catch(() => signal?.throwIfAborted());
  }
}
