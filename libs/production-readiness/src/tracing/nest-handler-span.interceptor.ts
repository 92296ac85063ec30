import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { Observable } from 'rxjs';
import { TRACER_NAME } from './message-tracing.js';

/**
 * Wraps every HTTP handler in a span named `Controller.method`, a child of
 * the request's server span, ended when the handler's result is sent on or it
 * fails. Installed by createServiceApp() only when tracing is active.
 * Message handlers get their consumer span from MessageContextInterceptor.
 */
@Injectable()
export class NestHandlerSpanInterceptor implements NestInterceptor {
  private readonly tracer = trace.getTracer(TRACER_NAME);

  intercept(executionContext: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (executionContext.getType() !== 'http') return next.handle();
    const controller = executionContext.getClass().name;
    const handler = executionContext.getHandler().name;
    const { tracer } = this;
    return new Observable((subscriber) => {
      const span = tracer.startSpan(`${controller}.${handler}`, {
        attributes: {
          'nestjs.type': 'handler',
          'nestjs.controller': controller,
          'nestjs.callback': handler,
        },
      });
      let isEnded = false;
      const end = () => {
        if (isEnded) return;
        isEnded = true;
        span.end();
      };
      // Subscribing inside the span's context is what runs the handler (invoked
      // on subscription) and everything it awaits under this span.
      const subscription = context.with(trace.setSpan(context.active(), span), () =>
        next.handle().subscribe({
          next: (value) => subscriber.next(value),
          error: (error: unknown) => {
            span.recordException(error instanceof Error ? error : String(error));
            span.setStatus({ code: SpanStatusCode.ERROR });
            end();
            subscriber.error(error);
          },
          complete: () => {
            end();
            subscriber.complete();
          },
        }),
      );
      return () => {
        subscription.unsubscribe();
        end();
      };
    });
  }
}
