export { MetricsRegistry, type PoolUsage } from './metrics-registry.js';
export { MetricsModule } from './metrics.module.js';
export { METRICS_PATH, type MetricsExtras } from './metrics.module-definition.js';
export {
  DEFAULT_HTTP_DURATION_BUCKETS,
  DEFAULT_MESSAGE_DURATION_BUCKETS,
  DEFAULT_METRICS_PATH,
  METRICS_OPTIONS,
  type MetricsOptions,
} from './metrics.options.js';
export { HttpMetrics, UNMATCHED_ROUTE } from './http-metrics.js';
export { MessageMetrics } from './message-metrics.js';
export { MetricsServer } from './metrics-server.js';
export { DEFAULT_MAX_LABEL_VALUES, OVERFLOW_LABEL_VALUE } from './label-cap.js';
export {
  formatFor,
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  type ExpositionFormat,
} from './exposition.js';
// A user's own metrics declared the @willsoto/nestjs-prometheus way land in the same registry.
export {
  InjectMetric,
  makeCounterProvider,
  makeGaugeProvider,
  makeHistogramProvider,
  makeSummaryProvider,
} from '@willsoto/nestjs-prometheus';
