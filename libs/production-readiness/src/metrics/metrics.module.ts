import { Module, type DynamicModule } from '@nestjs/common';
import { DatabasePoolMetrics } from './database-pool-metrics.js';
import { HttpMetrics } from './http-metrics.js';
import { MessageMetrics } from './message-metrics.js';
import { MetricsRegistry } from './metrics-registry.js';
import { MetricsServer } from './metrics-server.js';
import { MetricsModuleClass, METRICS_OPTIONS_TYPE } from './metrics.module-definition.js';
import { serviceConfigProvider } from '../config/default-service-config.js';
import { HttpPipelineModule } from '../http/http-pipeline.module.js';

/**
 * Prometheus metrics at /metrics (a registry per app, every
 * series labelled with `service`): HTTP and message RED metrics, process,
 * memory and pool gauges, a cap on label values; off with
 * METRICS_ENABLED=false. Other concerns declare their metrics through
 * MetricsRegistry.
 */
@Module({
  imports: [HttpPipelineModule],
  providers: [
    serviceConfigProvider,
    MetricsRegistry,
    HttpMetrics,
    MessageMetrics,
    DatabasePoolMetrics,
    MetricsServer,
  ],
  exports: [MetricsRegistry, HttpMetrics, MessageMetrics, MetricsServer],
})
export class MetricsModule extends MetricsModuleClass {
  /** The module with its options; every one has a default, so `forRoot()` is enough. */
  static forRoot(options: typeof METRICS_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
