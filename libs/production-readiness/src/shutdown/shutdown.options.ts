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
}

export const DEFAULT_SHUTDOWN_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
export const DEFAULT_CLEANUP_TIMEOUT_MS = 5_000;
/** The drain delay when SHUTDOWN_DRAIN_DELAY_MS is unset, in Kubernetes (KUBERNETES_SERVICE_HOST set). */
export const DEFAULT_KUBERNETES_DRAIN_DELAY_MS = 5_000;
