/** Injection token of MetricsModule's options. */
export const METRICS_OPTIONS = 'METRICS_OPTIONS';

/** Options of MetricsModule. */
export interface MetricsOptions {
  /**
   * Collect prom-client's default process and Node.js runtime metrics.
   * @default true
   */
  defaultMetrics?: boolean;
}

/** The exposition path; fixed when the module is declared. */
export const DEFAULT_METRICS_PATH = '/metrics';
