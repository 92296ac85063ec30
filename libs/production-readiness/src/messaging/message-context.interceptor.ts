import {
  Injectable,
  Optional,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { PATTERN_METADATA } from '@nestjs/microservices/constants.js';
import { context as otelContext, type TextMapGetter } from '@opentelemetry/api';
import { Observable } from 'rxjs';
import { CORRELATION_ID_HEADER, isSafeCorrelationId } from '../context/correlation-id.js';
import { RequestContext } from '../context/request-context.js';
import { MessageMetrics } from '../metrics/message-metrics.js';
import { OverloadProtection } from '../overload/overload-protection.service.js';
import { MessageHandlersInFlight } from '../shutdown/message-handlers-in-flight.js';
import { failSpan, startConsumeSpan } from '../tracing/message-tracing.js';
import { isTracingActive } from '../tracing/tracing-state.js';
import { messageHeader } from './message-headers.js';

// The transport label from the RPC context's class, as the message bus names them.
const TRANSPORT_OF_CONTEXT: Record<string, string> = {
  KafkaContext: 'kafka',
  NatsContext: 'nats',
  RmqContext: 'rabbitmq',
  InProcessContext: 'in-process',
};

function transportOf(rpcContext: object | null | undefined): string {
  const name = rpcContext?.constructor.name ?? 'unknown';
  return TRANSPORT_OF_CONTEXT[name] ?? name.replace(/Context$/, '').toLowerCase();
}

// The handler's declared pattern: bounded, unlike a Kafka topic or NATS subject.
const patternOfHandler = new WeakMap<object, string>();

function patternOf(handler: object): string {
  let pattern = patternOfHandler.get(handler);
  if (pattern === undefined) {
    const declared: unknown = Reflect.getMetadata(PATTERN_METADATA, handler);
    const first: unknown = Array.isArray(declared) ? declared[0] : declared;
    pattern = typeof first === 'string' ? first : JSON.stringify(first ?? 'unknown');
    patternOfHandler.set(handler, pattern);
  }
  return pattern;
}

// Reads the trace context (`traceparent`, `tracestate`, `baggage`) from any transport's headers.
const HEADER_GETTER: TextMapGetter<unknown> = {
  get: (rpcContext, name) => messageHeader(rpcContext, name),
  keys: () => [],
};

/**
 * Runs every `@nestjs/microservices` handler inside a RequestContext whose
 * correlation id comes from the message's headers (minted when absent or
 * unsafe), so the handler's logs and errors carry the publisher's id; and
 * records the handler's outcome and duration in the message metrics. With
 * tracing on, the handler runs in a consumer span `process <pattern>`, the
 * child of the publisher's span, and a message without a correlation id takes
 * the trace id as its id.
 *
 * While the service is overloaded (OverloadProtection), a handler waits
 * before it starts: on RabbitMQ the message is acknowledged only once its
 * handler has ended (message-transport.ts), so with the consumer's prefetch
 * full the broker keeps the rest; Kafka's partition waits uncommitted; NATS
 * core and the in-process bus hold the waiting messages in the process.
 */
@Injectable()
export class MessageContextInterceptor implements NestInterceptor {
  constructor(
    @Optional() private readonly metrics?: MessageMetrics,
    @Optional() private readonly inFlight?: MessageHandlersInFlight,
    @Optional() private readonly overload?: OverloadProtection,
  ) {}

  private readonly isTraced = isTracingActive();

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const rpcContext: unknown = context.switchToRpc().getContext();
    const received = messageHeader(rpcContext, CORRELATION_ID_HEADER);
    const correlationId = isSafeCorrelationId(received) ? received : undefined;
    const { metrics } = this;
    // Timed from the handler's start: a wait while overloaded is not handling.
    const startRecording = metrics
      ? () => {
          const transport = transportOf(rpcContext as object | null);
          const pattern = patternOf(context.getHandler());
          const startedAt = performance.now();
          return (outcome: 'success' | 'error') =>
            metrics.record(transport, pattern, outcome, performance.now() - startedAt);
        }
      : undefined;
    // Subscribing inside run() is what puts the handler (invoked on
    // subscription) and everything it awaits into the context.
    const { inFlight, isTraced } = this;
    const waiting = this.overload?.whenAcceptingMessages();
    return new Observable((subscriber) => {
      // Counted until it ends, so the shutdown waits for it before closing pools.
      const done = inFlight?.begin(patternOf(context.getHandler()));
      const traced = isTraced
        ? startConsumeSpan(
            transportOf(rpcContext as object | null),
            patternOf(context.getHandler()),
            rpcContext,
            HEADER_GETTER,
          )
        : undefined;
      const span = traced?.span;
      let isSpanEnded = false;
      const endSpan = () => {
        if (span && !isSpanEnded) span.end();
        isSpanEnded = true;
      };
      let record: ((outcome: 'success' | 'error') => void) | undefined;
      const run = () => {
        record = startRecording?.();
        return RequestContext.run(
          { correlationId: correlationId ?? span?.spanContext().traceId },
          () =>
            next.handle().subscribe({
              next: (value) => subscriber.next(value),
              error: (error: unknown) => {
                record?.('error');
                if (span) failSpan(span, error);
                endSpan();
                subscriber.error(error);
              },
              complete: () => {
                record?.('success');
                endSpan();
                subscriber.complete();
              },
            }),
        );
      };
      const start = () => (traced ? otelContext.with(traced.context, run) : run());
      let subscription: { unsubscribe(): void } | undefined;
      let isUnsubscribed = false;
      if (waiting) {
        void waiting.then(() => {
          if (!isUnsubscribed) subscription = start();
        });
      } else {
        subscription = start();
      }
      return () => {
        isUnsubscribed = true;
        subscription?.unsubscribe();
        endSpan();
        done?.();
      };
    });
  }
}
