import { Inject, Injectable } from '@nestjs/common';
import { MetricsRegistry } from './metrics-registry.js';
import {
  DEFAULT_MESSAGE_DURATION_BUCKETS,
  METRICS_OPTIONS,
  type MetricsOptions,
} from './metrics.options.js';
import type { RedMetrics } from './red-metrics.js';

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
  private readonly red: RedMetrics<MessageLabel>;

  constructor(metrics: MetricsRegistry, @Inject(METRICS_OPTIONS) options: MetricsOptions) {
    this.red = metrics.redMetrics({
      countName: 'messages_handled_total',
      countHelp: 'Messages handled by the service, by transport, pattern and outcome.',
      durationName: 'message_handling_duration_seconds',
      durationHelp: 'Time a message handler took, by transport, pattern and outcome.',
      labelNames: ['transport', 'pattern', 'outcome'],
      buckets: options.messageDurationBuckets ?? DEFAULT_MESSAGE_DURATION_BUCKETS,
      enableExemplars: false,
    });
  }

  record(transport: string, pattern: string, outcome: MessageOutcome, durationMs: number): void {
    this.red.observe(this.red.seriesFor({ transport, pattern, outcome }), durationMs / 1000);
  }
}
