import { Inject, Injectable } from '@nestjs/common';
import type { Counter, Histogram } from 'prom-client';
import { MetricsRegistry } from './metrics-registry.js';
import {
  DEFAULT_MESSAGE_DURATION_BUCKETS,
  METRICS_OPTIONS,
  type MetricsOptions,
} from './metrics.options.js';

export type MessageOutcome = 'success' | 'error';

type MessageLabel = 'transport' | 'pattern' | 'outcome';

/**
 * RED metrics of `@nestjs/microservices` handlers:
 * `messages_handled_total` and `message_handling_duration_seconds` by
 * transport, declared pattern and outcome. MessageContextInterceptor records
 * them when a handler completes or fails.
 */
@Injectable()
export class MessageMetrics {
  private readonly handled: Counter<MessageLabel>;
  private readonly duration: Histogram<MessageLabel>;

  constructor(metrics: MetricsRegistry, @Inject(METRICS_OPTIONS) options: MetricsOptions) {
    const labelNames: MessageLabel[] = ['transport', 'pattern', 'outcome'];
    this.handled = metrics.counter({
      name: 'messages_handled_total',
      help: 'Messages handled by the service, by transport, pattern and outcome.',
      labelNames,
    });
    this.duration = metrics.histogram({
      name: 'message_handling_duration_seconds',
      help: 'Time a message handler took, by transport, pattern and outcome.',
      labelNames,
      buckets: options.messageDurationBuckets ?? DEFAULT_MESSAGE_DURATION_BUCKETS,
    });
  }

  record(transport: string, pattern: string, outcome: MessageOutcome, durationMs: number): void {
    const labels = { transport, pattern, outcome };
    this.handled.inc(labels);
    this.duration.observe(labels, durationMs / 1000);
  }
}
