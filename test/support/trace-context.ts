import { AsyncLocalStorage } from 'node:async_hooks';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
  type Context,
  type ContextManager,
  type TextMapPropagator,
} from '@opentelemetry/api';

// What a tracing SDK registers, reduced to the two pieces outbound propagation
// reads: an AsyncLocalStorage context manager and the W3C traceparent propagator.
class AlsContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.storage.run(ctx, () => fn.apply(thisArg, args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.storage.disable();
    return this;
  }
}

const w3cPropagator: TextMapPropagator = {
  inject(ctx, carrier, setter) {
    const span = trace.getSpanContext(ctx);
    if (!span) return;
    const flags = `0${(span.traceFlags & TraceFlags.SAMPLED).toString(16)}`;
    setter.set(carrier, 'traceparent', `00-${span.traceId}-${span.spanId}-${flags}`);
  },
  extract: (ctx) => ctx,
  fields: () => ['traceparent'],
};

/** Registers the context manager and propagator globally; returns the function that removes them. */
export function installW3cTracePropagation(): () => void {
  context.setGlobalContextManager(new AlsContextManager());
  propagation.setGlobalPropagator(w3cPropagator);
  return () => {
    propagation.disable();
    context.disable();
  };
}

/** Runs `fn` inside a (non-recording) span with these ids, as an instrumented request would. */
export function withSpan<T>(traceId: string, spanId: string, fn: () => T): T {
  const ctx = trace.setSpanContext(context.active(), {
    traceId,
    spanId,
    traceFlags: TraceFlags.SAMPLED,
  });
  return context.with(ctx, fn);
}
