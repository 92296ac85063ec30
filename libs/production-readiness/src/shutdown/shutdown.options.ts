/** Injection token of ShutdownModule's options. */
export const SHUTDOWN_OPTIONS = 'SHUTDOWN_OPTIONS';

/** Options of ShutdownModule. The budgets themselves are settings (SHUTDOWN_*_MS). */
export interface ShutdownOptions {
  /**
   * The signals that start the graceful shutdown.
   * @default ['SIGTERM', 'SIGINT']
   */
  signals?: NodeJS.Signals[];
  /**
   * The longest a registered cleanup function may take before the sequence moves on.
   * @default 5000
   */
  cleanupTimeoutMs?: number;
  /**
   * End the process when the sequence is done: exit 0, or 1 when the budget ran out.
   * Off, `shutdown()` resolves with the outcome and the process stays (tests, embedding).
   * @default true
   */
  exitProcess?: boolean;
  /**
   * Once the listener has closed, how long a keep-alive connection must have
   * been idle before the sequence closes it. A client picks an idle pooled
   * connection and writes its next request without warning, and a request the
   * server has not read yet is invisible to it: closing the socket then resets
   * that request. Connections that carry a request meanwhile get it served with
   * `Connection: close` and end by themselves; only the ones idle this long are
   * closed, after which no client is about to reuse them. It makes the shutdown
   * last at least this long after the drain delay while connections are open.
   * @default 1000
   */
  keepAliveGraceMs?: number;
}

export const DEFAULT_SHUTDOWN_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
export const DEFAULT_CLEANUP_TIMEOUT_MS = 5_000;
export const DEFAULT_KEEP_ALIVE_GRACE_MS = 1_000;
/** The drain delay when SHUTDOWN_DRAIN_DELAY_MS is unset, in Kubernetes (KUBERNETES_SERVICE_HOST set). */
export const DEFAULT_KUBERNETES_DRAIN_DELAY_MS = 5_000;
