import { Module } from '@nestjs/common';
import { MetricsRegistry } from './metrics-registry.js';
import { MetricsModuleClass } from './metrics.module-definition.js';

/**
 * Prometheus metrics at /metrics (prom-client's default registry, every
 * series labelled with `service`), off with METRICS_ENABLED=false. Other
 * concerns declare their metrics through MetricsRegistry.
 */
@Module({ providers: [MetricsRegistry], exports: [MetricsRegistry] })
export class MetricsModule extends MetricsModuleClass {}
