import { Injectable, Logger } from '@nestjs/common';
import { MetricsRegistry } from 'nestjs-production-readiness';
import { BatchesService } from './batches.service.js';

/** `active_batches_count`: batches with an essay still pending, read from the database when scraped. */
@Injectable()
export class BatchMetrics {
  constructor(metrics: MetricsRegistry, batches: BatchesService) {
    const logger = new Logger(BatchMetrics.name);
    // Each app has its own registry, so the gauge reads this app's database.
    metrics.gauge({
      name: 'active_batches_count',
      help: 'Batches with at least one essay still pending.',
      // A function, not an arrow: prom-client calls it with the gauge as `this`.
      async collect() {
        try {
          this.set(await batches.countActive());
        } catch (error) {
          // The scrape goes on without the database (the readiness probe
          // reports it); NaN says "unknown" where a stale count would mislead.
          this.set(Number.NaN);
          logger.warn(`Could not count active batches: ${String(error)}`);
        }
      },
    });
  }
}
