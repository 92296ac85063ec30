import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import { MetricsRegistry } from 'nestjs-production-readiness';

// prom-client is the library's dependency, not the app's: its types come through MetricsRegistry.
type Counter = ReturnType<MetricsRegistry['counter']>;
type Histogram = ReturnType<MetricsRegistry['histogram']>;

/** The timed phases of EssaysService.process, besides `total`. */
export type ProcessingPhase = 'load' | 'analyze' | 'store';

/** How an essay's processing ended: `degraded` is processed without its grammar check. */
export type ProcessingOutcome = 'processed' | 'degraded' | 'failed';

// The standards document's buckets for processing durations, in seconds.
const PROCESSING_DURATION_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60];

/** Times one essay's processing, phase after phase, until EssayMetrics records it. */
export class ProcessingTimer {
  private readonly startedAt = performance.now();
  private lapStartedAt = this.startedAt;
  readonly phaseSeconds: Partial<Record<ProcessingPhase, number>> = {};

  /** Ends `phase`, started when the previous one ended. */
  lap(phase: ProcessingPhase): void {
    const now = performance.now();
    this.phaseSeconds[phase] = (now - this.lapStartedAt) / 1000;
    this.lapStartedAt = now;
  }

  get totalSeconds(): number {
    return (performance.now() - this.startedAt) / 1000;
  }
}

/** The standards document's essay metrics: outcomes by language, and phase durations. */
@Injectable()
export class EssayMetrics {
  private readonly finished: Counter;
  private readonly duration: Histogram;

  constructor(metrics: MetricsRegistry) {
    this.finished = metrics.counter({
      name: 'essays_processed_total',
      help: 'Essays whose processing finished, by outcome and by the language their author gave.',
      labelNames: ['status', 'language'],
    });
    this.duration = metrics.histogram({
      name: 'essay_processing_duration_seconds',
      help: 'Time spent in each phase of processing an essay (load, analyze, store) and in total.',
      labelNames: ['phase'],
      buckets: PROCESSING_DURATION_BUCKETS,
    });
  }

  startProcessing(): ProcessingTimer {
    return new ProcessingTimer();
  }

  /**
   * Counts one finished processing and observes the phases it went through:
   * `processed` (or `degraded`, stored without the grammar check) by the one
   * delivery that stored the result (a duplicate that finds the work done
   * counts nothing), `failed` by each attempt that threw.
   */
  record(
    timer: ProcessingTimer,
    outcome: ProcessingOutcome,
    language: string | null | undefined,
  ): void {
    this.finished.inc({ status: outcome, language: language ?? 'unknown' });
    for (const [phase, seconds] of Object.entries(timer.phaseSeconds)) {
      this.duration.observe({ phase }, seconds);
    }
    this.duration.observe({ phase: 'total' }, timer.totalSeconds);
  }
}
