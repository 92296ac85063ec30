import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { SERVICE_CONFIG } from '../config/default-service-config.js';
import { HEALTH_OPTIONS, resolveHealthOptions, type HealthOptions } from './health.options.js';
import type { HealthReport } from './health-report.js';

const NS_PER_MS = 1e6;

/**
 * Liveness: the process itself, never a dependency. The event loop's delay
 * (99th percentile since the previous probe) and the heap in use against its
 * limit. Answers in microseconds even when every dependency hangs.
 */
@Injectable()
export class LivenessService implements OnModuleDestroy {
  private readonly delay: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  private readonly maxDelayMs: number;
  private readonly maxHeapUsedRatio: number;

  constructor(
    @Inject(HEALTH_OPTIONS) options: HealthOptions,
    @Inject(SERVICE_CONFIG) private readonly config: BaseServiceConfig,
  ) {
    const resolved = resolveHealthOptions(options);
    this.maxDelayMs = resolved.maxEventLoopDelayMs;
    this.maxHeapUsedRatio = resolved.maxHeapUsedRatio;
    this.delay.enable();
  }

  report(): HealthReport {
    const delayMs = this.delay.count > 0 ? this.delay.percentile(99) / NS_PER_MS : 0;
    this.delay.reset();
    const heap = getHeapStatistics();
    const heapUsedRatio = heap.used_heap_size / heap.heap_size_limit;
    const eventLoopUp = delayMs <= this.maxDelayMs;
    const heapUp = heapUsedRatio <= this.maxHeapUsedRatio;
    return {
      status: eventLoopUp && heapUp ? 'pass' : 'fail',
      service: this.config.SERVICE_NAME,
      version: this.config.SERVICE_VERSION,
      checks: {
        eventLoop: {
          status: eventLoopUp ? 'up' : 'down',
          required: true,
          responseTimeMs: 0,
          p99DelayMs: Math.round(delayMs * 10) / 10,
          limitMs: this.maxDelayMs,
        },
        heap: {
          status: heapUp ? 'up' : 'down',
          required: true,
          responseTimeMs: 0,
          usedBytes: heap.used_heap_size,
          limitBytes: heap.heap_size_limit,
        },
      },
    };
  }

  onModuleDestroy(): void {
    this.delay.disable();
  }
}
