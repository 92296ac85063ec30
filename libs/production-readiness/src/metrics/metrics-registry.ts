import { Inject, Injectable } from '@nestjs/common';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  register,
  Registry as PromRegistry,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
  type Registry,
} from 'prom-client';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { SERVICE_CONFIG } from '../config/default-service-config.js';
import { contentTypeOf, renderExposition, type ExpositionFormat } from './exposition.js';
import {
  CappedCounter,
  CappedGauge,
  CappedHistogram,
  DEFAULT_MAX_LABEL_VALUES,
  LabelCap,
} from './label-cap.js';
import { METRICS_OPTIONS, type MetricsOptions } from './metrics.options.js';
import { RedMetrics, type RedMetricsConfig } from './red-metrics.js';

/** What a connection pool reports: connections in use, idle, the most it opens, and callers waiting. */
export interface PoolUsage {
  active: number;
  idle: number;
  max?: number;
  waiting: number;
}

/**
 * The app's metrics, in a registry of its own, so two apps in one process
 * (tests) count only their own requests; every series labelled with
 * `service`. The exposition also shows what is in prom-client's default
 * registry, where @willsoto/nestjs-prometheus's `@InjectMetric` metrics and
 * a user's own land (a name declared in both is shown once, ours). Metrics
 * are declared get-or-create; the ones declared here have their label values
 * capped.
 */
@Injectable()
export class MetricsRegistry {
  readonly registry: Registry = new PromRegistry();
  // Pools are read when scraped.
  private readonly trackedPools = new Map<string, () => PoolUsage>();
  readonly isEnabled: boolean;
  /** The exposition's own port, when it is not served on the app's. */
  readonly port: number | undefined;
  readonly defaultLabels: Record<string, string>;
  private readonly maxLabelValues: number;
  private readonly droppedLabelValues: Counter<'metric' | 'label'>;
  // The metrics declared through counter()/gauge()/histogram(), by name.
  private readonly declared = new Map<string, unknown>();

  constructor(
    @Inject(SERVICE_CONFIG) config: BaseServiceConfig,
    @Inject(METRICS_OPTIONS) options: MetricsOptions,
  ) {
    this.isEnabled = config.METRICS_ENABLED ?? true;
    this.port = options.port ?? config.METRICS_PORT;
    this.defaultLabels = { service: config.SERVICE_NAME };
    this.registry.setDefaultLabels(this.defaultLabels);
    this.maxLabelValues = options.maxLabelValues ?? DEFAULT_MAX_LABEL_VALUES;
    const wantsDefaults = this.isEnabled && (options.defaultMetrics ?? true);
    // Default metrics register once per registry; a second call would throw.
    if (wantsDefaults && !this.registry.getSingleMetric('process_cpu_user_seconds_total')) {
      collectDefaultMetrics({ register: this.registry });
    }
    this.droppedLabelValues = this.existing<Counter<'metric' | 'label'>>(
      'metrics_label_values_dropped_total',
      () =>
        new Counter({
          name: 'metrics_label_values_dropped_total',
          help: 'Label values folded into __overflow__ because their metric reached its cap of distinct values.',
          labelNames: ['metric', 'label'],
          registers: [this.registry],
        }),
    );
    this.declareProcessGauges();
  }

  /** Whether GET /metrics on the app's own port serves the exposition. */
  get isServedOnAppPort(): boolean {
    return this.isEnabled && this.port === undefined;
  }

  /** A counter, created once; its label values are capped. */
  counter<L extends string>(config: CounterConfiguration<L>): Counter<L> {
    return this.existing(config.name, () => {
      const counter = new Counter({ ...config, registers: [this.registry] });
      return new CappedCounter(counter, this.labelCap(config.name), config.labelNames);
    });
  }

  /** A gauge, created once; its label values are capped. Give `collect` to read it when scraped. */
  gauge<L extends string>(config: GaugeConfiguration<L>): Gauge<L> {
    return this.existing(config.name, () => {
      const { collect } = config;
      // `collect` sets values through the capped gauge, as the caller's code does.
      const capped: CappedGauge<L> = new CappedGauge(
        new Gauge({
          ...config,
          registers: [this.registry],
          ...(collect && { collect: () => collect.call(capped) }),
        }),
        this.labelCap(config.name),
        config.labelNames,
      );
      return capped;
    });
  }

  /**
   * A histogram, created once; its label values are capped. With
   * `enableExemplars`, its buckets keep the last exemplar each (shown only in
   * the OpenMetrics exposition).
   */
  histogram<L extends string>(config: HistogramConfiguration<L>): Histogram<L> {
    return this.existing(config.name, () => {
      // prom-client refuses exemplars on a registry typed for the text format;
      // our renderer writes them only in OpenMetrics whatever the registry's
      // type, so the metric is registered after the check instead of retyping
      // the shared default registry.
      const histogram = new Histogram({ ...config, registers: [] });
      this.registry.registerMetric(histogram);
      return new CappedHistogram(histogram, this.labelCap(config.name), config.labelNames);
    });
  }

  /**
   * A counter of events and a histogram of their durations over the same
   * label sets, recorded with one call (RedMetrics); created once, with the
   * label values of both capped.
   */
  redMetrics<L extends string>(config: RedMetricsConfig<L>): RedMetrics<L> {
    const declared = this.registry.getSingleMetric(config.durationName) as
      { owner?: unknown } | undefined;
    if (declared?.owner instanceof RedMetrics) return declared.owner as RedMetrics<L>;
    const red = new RedMetrics(config, [
      this.labelCap(config.countName),
      this.labelCap(config.durationName),
    ]);
    this.registry.registerMetric(red.counter as never);
    this.registry.registerMetric(red.histogram as never);
    return red;
  }

  /**
   * Shows a connection pool as `database_connections_active|idle|max|waiting{pool}`,
   * read when scraped. Returns the function that stops tracking it.
   */
  trackPool(pool: string, read: () => PoolUsage): () => void {
    const trackedPools = this.trackedPools;
    trackedPools.set(pool, read);
    return () => {
      if (trackedPools.get(pool) === read) trackedPools.delete(pool);
    };
  }

  /** The exposition in the Prometheus text format or OpenMetrics. */
  async exposition(
    format: ExpositionFormat = 'prometheus',
  ): Promise<{ contentType: string; body: string }> {
    const body = await renderExposition([this.registry, register], format, this.defaultLabels);
    return { contentType: contentTypeOf(format), body };
  }

  // Get-or-create: the capped metric made here, else one registered by other code.
  private existing<M>(name: string, create: () => M): M {
    const made = this.declared.get(name) ?? this.registry.getSingleMetric(name);
    if (made) return made as M;
    const metric = create();
    this.declared.set(name, metric);
    return metric;
  }

  private labelCap(name: string): LabelCap {
    return new LabelCap(name, this.maxLabelValues, (metricName, label) =>
      this.droppedLabelValues.inc({ metric: metricName, label }),
    );
  }

  // The standards document's system metrics: memory and connection pools.
  private declareProcessGauges(): void {
    const trackedPools = this.trackedPools;
    this.gauge({
      name: 'memory_usage_bytes',
      help: 'Resident memory of the process (RSS).',
      collect() {
        this.set(process.memoryUsage.rss());
      },
    });
    const poolGauge = (
      name: string,
      help: string,
      read: (usage: PoolUsage) => number | undefined,
    ) =>
      this.gauge({
        name,
        help,
        labelNames: ['pool'],
        collect() {
          this.reset();
          for (const [pool, usage] of trackedPools) {
            try {
              const value = read(usage());
              if (value !== undefined) this.set({ pool }, value);
            } catch {
              // A pool that cannot be read (closed, torn down) is left out of this scrape.
            }
          }
        },
      });
    poolGauge('database_connections_active', 'Pool connections in use.', (u) => u.active);
    poolGauge('database_connections_idle', 'Pool connections open and idle.', (u) => u.idle);
    poolGauge('database_connections_max', 'The most connections the pool opens.', (u) => u.max);
    poolGauge(
      'database_connections_waiting',
      'Callers waiting for a pool connection (saturation).',
      (u) => u.waiting,
    );
  }
}
