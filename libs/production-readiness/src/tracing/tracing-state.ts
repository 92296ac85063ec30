import { isSpanContextValid, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';

/** What startTracing() did in this process. */
export interface TracingState {
  /** True when spans are recorded and exported. */
  readonly isActive: boolean;
  /** One sentence for the startup log: where spans go, or why there are none. */
  readonly description: string;
  /** True when tracing is off only because no OTLP endpoint is set (the default). */
  readonly lacksEndpoint: boolean;
  /** Exports the spans still buffered. */
  flush(): Promise<void>;
  /** Exports the spans still buffered, then stops the exporter. Later spans are dropped. */
  shutdown(): Promise<void>;
}

// On globalThis under a registered symbol: the `--import` entry and the app
// may load two copies of the library (dist and source, or two versions), and
// both must see the one SDK of the process, as @opentelemetry/api does.
const STATE = Symbol.for('nestjs-production-readiness.tracing');

type GlobalWithState = typeof globalThis & { [STATE]?: TracingState };

/** What startTracing() did, or undefined when it was never called. */
export function tracingState(): TracingState | undefined {
  return (globalThis as GlobalWithState)[STATE];
}

/** @internal Records what startTracing() did; the first call wins. */
export function setTracingState(state: TracingState): TracingState {
  const holder = globalThis as GlobalWithState;
  return (holder[STATE] ??= state);
}

/**
 * True when the OpenTelemetry SDK was started by startTracing(). Read once
 * when a component is built, so with tracing off no request pays for it.
 */
export function isTracingActive(): boolean {
  return tracingState()?.isActive === true;
}

/** The active span's context when it is a real one (not the API's no-op). */
export function activeSpanContext(): SpanContext | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** True when the span is sampled, so its trace reaches the backend. */
export function isSampled(spanContext: SpanContext): boolean {
  return (spanContext.traceFlags & TraceFlags.SAMPLED) !== 0;
}

/** The W3C `traceparent` of a span context (W3C Trace Context §3.2). */
export function traceparentOf(spanContext: SpanContext): string {
  const flags = spanContext.traceFlags & 0xff;
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags < 16 ? '0' : ''}${flags.toString(16)}`;
}

/** The trace id of the active span, when tracing is on and a span is active. */
export function activeTraceId(): string | undefined {
  return activeSpanContext()?.traceId;
}
