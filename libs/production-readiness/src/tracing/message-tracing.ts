import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';

/** The instrumentation scope of the library's own spans. */
export const TRACER_NAME = 'nestjs-production-readiness';

const tracer = () => trace.getTracer(TRACER_NAME);

function attributesOf(system: string, pattern: string, operation: 'send' | 'process') {
  return {
    'messaging.system': system,
    'messaging.destination.name': pattern,
    'messaging.operation.type': operation,
    'messaging.operation.name': operation === 'send' ? 'publish' : 'process',
  };
}

/** Marks a span failed with the error, as the OpenTelemetry conventions ask. */
export function failSpan(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR });
}

/**
 * Runs `send` inside a producer span `publish <pattern>`, with the span's
 * context (`traceparent`, `tracestate`, `baggage`) added to `headers`, so the
 * consumer's span becomes its child.
 */
export async function tracePublish(
  system: string,
  pattern: string,
  headers: Record<string, string>,
  send: (headers: Record<string, string>) => Promise<void>,
): Promise<void> {
  const span = tracer().startSpan(`publish ${pattern}`, {
    kind: SpanKind.PRODUCER,
    attributes: attributesOf(system, pattern, 'send'),
  });
  const spanContext = trace.setSpan(context.active(), span);
  propagation.inject(spanContext, headers);
  try {
    await context.with(spanContext, () => send(headers));
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Starts the consumer span `process <pattern>` of a received message: the
 * child of the producer's span when the message carries `traceparent`, else
 * the root of a new trace (never a child of whatever the delivering code
 * happened to run in). Returns the span and the context to run the handler in.
 */
export function startConsumeSpan<Carrier>(
  system: string,
  pattern: string,
  carrier: Carrier,
  getter: TextMapGetter<Carrier>,
): { span: Span; context: Context } {
  const parent = propagation.extract(ROOT_CONTEXT, carrier, getter);
  const span = tracer().startSpan(
    `process ${pattern}`,
    { kind: SpanKind.CONSUMER, attributes: attributesOf(system, pattern, 'process') },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}
