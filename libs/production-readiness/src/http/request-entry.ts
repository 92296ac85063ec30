import type { IncomingMessage, ServerResponse } from 'node:http';
import { trace } from '@opentelemetry/api';
import {
  CORRELATION_ID_HEADER,
  correlationIdFrom,
  TRACEPARENT_HEADER,
} from '../context/correlation-id.js';
import {
  activeSpanContext,
  isSampled,
  isTracingActive,
  traceparentOf,
} from '../tracing/tracing-state.js';

/** What is known of a request once its response has been sent. */
export interface FinishedRequest {
  method: string;
  /** The route template (`/essays/:id`), or undefined when no route matched. */
  route: string | undefined;
  /** The path without the query string. */
  path: string;
  statusCode: number;
  durationMs: number;
  correlationId: string;
  /** The trace id, when tracing is on and the request's trace is sampled (exported). */
  traceId?: string;
  /** The raw response, for a listener that reads what the app's middleware left on it. */
  response?: ServerResponse;
}

/** Where the correlation id is kept on the raw request, for code outside the context. */
export const CORRELATION_ID_KEY = Symbol.for('nestjs-production-readiness:correlationId');

export type ContextualRequest = IncomingMessage & { [CORRELATION_ID_KEY]?: string };

/** The correlation id given to a raw or framework request, if the entry saw it. */
export function correlationIdOfRequest(request: object): string | undefined {
  const raw = (request as { raw?: ContextualRequest }).raw ?? (request as ContextualRequest);
  return raw[CORRELATION_ID_KEY];
}

export function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** The route template of a request once routed: `routeOf(routed)`, one function per platform. */
export type RouteOf<R> = (routed: R) => string | undefined;

/** No route is known (a request answered before the framework saw it). */
export const NO_ROUTE: RouteOf<unknown> = () => undefined;

/**
 * Starts a request: reads or mints its correlation id, echoes it in
 * `X-Correlation-ID` before anything can answer (so 404s, parser errors and
 * 500s carry it), and, when `finished` is given, calls it once the response
 * has been sent, with the route `routeOf(routed)` reads then (`routed` is the
 * framework's request: a shared function, not a closure per request).
 * Returns the id, for the request context.
 */
export type BeginRequest = <R>(
  request: ContextualRequest,
  response: ServerResponse,
  routed: R,
  routeOf: RouteOf<R>,
  finished: ((request: FinishedRequest) => void) | undefined,
) => string;

const beginUntraced: BeginRequest = (request, response, routed, routeOf, finished) => {
  const correlationId = correlationIdFrom(request.headers);
  request[CORRELATION_ID_KEY] = correlationId;
  response.setHeader(CORRELATION_ID_HEADER, correlationId);
  if (finished) {
    const startedAt = performance.now();
    response.on('finish', () =>
      finished({
        method: request.method ?? 'GET',
        route: routeOf(routed),
        path: pathOf(request.url),
        statusCode: response.statusCode,
        durationMs: performance.now() - startedAt,
        correlationId,
        response,
      }),
    );
  }
  return correlationId;
};

// With tracing on, node:http's instrumentation has started the request's
// server span before the adapter runs: its trace id becomes the correlation
// id unless the client sent one, the response carries its `traceparent`, and
// the span is named by the route template once routing is known.
const beginTraced: BeginRequest = (request, response, routed, routeOf, finished) => {
  const span = trace.getActiveSpan();
  const spanContext = activeSpanContext();
  const correlationId = correlationIdFrom(request.headers, spanContext?.traceId);
  request[CORRELATION_ID_KEY] = correlationId;
  response.setHeader(CORRELATION_ID_HEADER, correlationId);
  if (spanContext) response.setHeader(TRACEPARENT_HEADER, traceparentOf(spanContext));
  const traceId = spanContext && isSampled(spanContext) ? spanContext.traceId : undefined;
  const startedAt = performance.now();
  response.on('finish', () => {
    const method = request.method ?? 'GET';
    const route = routeOf(routed);
    // The server span ends on 'close', after this: the name is still ours to set.
    if (route !== undefined && span?.isRecording()) {
      span.updateName(`${method} ${route}`);
      span.setAttribute('http.route', route);
    }
    finished?.({
      method,
      route,
      path: pathOf(request.url),
      statusCode: response.statusCode,
      durationMs: performance.now() - startedAt,
      correlationId,
      traceId,
      response,
    });
  });
  return correlationId;
};

/** The begin function for this process: chosen once, so untraced requests take the short path. */
export function requestBeginner(): BeginRequest {
  return isTracingActive() ? beginTraced : beginUntraced;
}
