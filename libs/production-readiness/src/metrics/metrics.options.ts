/** Injection token of MetricsModule's options. */
export const METRICS_OPTIONS = 'METRICS_OPTIONS';

/** Options of MetricsModule. */
export interface MetricsOptions {
  /**
   * Collect prom-client's default process and Node.js runtime metrics.
   * @default true
   */
  defaultMetrics?: boolean;
  /**
   * Record `http_requests_total` and `http_request_duration_seconds` for every request.
   * @default true
   */
  httpMetrics?: boolean;
  /**
   * Buckets of `http_request_duration_seconds`, in seconds.
   * @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
   */
  httpDurationBuckets?: number[];
  /**
   * Buckets of `message_handling_duration_seconds`, in seconds.
   * @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
   */
  messageDurationBuckets?: number[];
  /**
   * The most distinct values a label of one metric may take; later values fold
   * into `__overflow__` and count in `metrics_label_values_dropped_total`.
   * @default 100
   */
  maxLabelValues?: number;
  /**
   * Serve the exposition on this port (on HOST) instead of the app's port;
   * the app's port then answers 404 there. `METRICS_PORT` sets it too.
   * @default undefined (the app's port)
   */
  port?: number;
}

export const DEFAULT_HTTP_DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
export const DEFAULT_MESSAGE_DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** The exposition path; fixed when the module is declared. */
export const DEFAULT_METRICS_PATH = '/metrics';
