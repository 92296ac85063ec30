/**
 * `work`'s outcome, or a rejection with `timedOut()` once `timeoutMs` has
 * passed; the timer is cleared either way. `work` is left to finish on its
 * own (nothing here can cancel it), and a rejection it gives after the
 * timeout is ignored rather than left unhandled. For a call that can be
 * aborted, a resilience policy's timeout aborts it instead.
 */
export async function settleWithin<T>(
  work: Promise<T>,
  timeoutMs: number,
  timedOut: () => Error,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut()), timeoutMs);
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
