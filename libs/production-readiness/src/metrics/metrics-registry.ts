import { Inject, Injectable } from '@nestjs/common';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  register,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
  type Registry,
} from 'prom-client';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { METRICS_OPTIONS, type MetricsOptions } from './metrics.options.js';

/**
 * The app's metrics, in prom-client's default registry (where
 * @willsoto/nestjs-prometheus's `@InjectMetric` metrics land too), every
 * series labelled with `service`. Metrics are declared get-or-create, so a
 * second app in the same process (tests) reuses them instead of failing on a
 * duplicate name.
 */
@Injectable()
export class MetricsRegistry {
  readonly registry: Registry = register;
  readonly isEnabled: boolean;

  constructor(config: BaseServiceConfig, @Inject(METRICS_OPTIONS) options: MetricsOptions) {
    this.isEnabled = config.METRICS_ENABLED ?? true;
    this.registry.setDefaultLabels({ service: config.SERVICE_NAME });
    const wantsDefaults = this.isEnabled && (options.defaultMetrics ?? true);
    // Default metrics register once per registry; a second call would throw.
    if (wantsDefaults && !this.registry.getSingleMetric('process_cpu_user_seconds_total')) {
      collectDefaultMetrics({ register: this.registry });
    }
  }

  counter<L extends string>(config: CounterConfiguration<L>): Counter<L> {
    return (
      (this.registry.getSingleMetric(config.name) as Counter<L> | undefined) ?? new Counter(config)
    );
  }

  gauge<L extends string>(config: GaugeConfiguration<L>): Gauge<L> {
    return (
      (this.registry.getSingleMetric(config.name) as Gauge<L> | undefined) ?? new Gauge(config)
    );
  }

  histogram<L extends string>(config: HistogramConfiguration<L>): Histogram<L> {
    return (
      (this.registry.getSingleMetric(config.name) as Histogram<L> | undefined) ??
      new Histogram(config)
    );
  }

  /** The exposition in Prometheus' text format. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
