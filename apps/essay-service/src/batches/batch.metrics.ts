import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { MetricsRegistry } from 'nestjs-production-readiness';
import { BatchesService } from './batches.service.js';

type CountActiveBatches = () => Promise<number>;

// The gauge is one per process (prom-client's default registry), yet tests
// run several apps in one process: it reads the newest app still open.
const activeBatchCounters: CountActiveBatches[] = [];

/** `active_batches_count`: batches with an essay still pending, read from the database when scraped. */
@Injectable()
export class BatchMetrics implements OnModuleDestroy {
  private readonly countActive: CountActiveBatches;

  constructor(metrics: MetricsRegistry, batches: BatchesService) {
    this.countActive = () => batches.countActive();
    activeBatchCounters.push(this.countActive);
    const logger = new Logger(BatchMetrics.name);
    metrics.gauge({
      name: 'active_batches_count',
      help: 'Batches with at least one essay still pending.',
      // A function, not an arrow: prom-client calls it with the gauge as `this`.
      async collect() {
        const countActive = activeBatchCounters.at(-1);
        if (!countActive) return;
        try {
          this.set(await countActive());
        } catch (error) {
          // The scrape goes on without the database (the readiness probe
          // reports it); NaN says "unknown" where a stale count would mislead.
          this.set(Number.NaN);
          logger.warn(`Could not count active batches: ${String(error)}`);
        }
      },
    });
  }

  onModuleDestroy(): void {
    const index = activeBatchCounters.indexOf(this.countActive);
    if (index >= 0) activeBatchCounters.splice(index, 1);
  }
}
