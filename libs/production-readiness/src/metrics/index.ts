export { MetricsRegistry } from './metrics-registry.js';
export { MetricsModule } from './metrics.module.js';
export { type MetricsExtras } from './metrics.module-definition.js';
export { DEFAULT_METRICS_PATH, METRICS_OPTIONS, type MetricsOptions } from './metrics.options.js';
