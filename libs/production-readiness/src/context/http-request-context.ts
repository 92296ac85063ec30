import type { IncomingMessage, ServerResponse } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import {
  activeSpanContext,
  isSampled,
  isTracingActive,
  traceparentOf,
} from '../tracing/tracing-state.js';
import { CORRELATION_ID_HEADER, correlationIdFrom, TRACEPARENT_HEADER } from './correlation-id.js';
import { RequestContext } from './request-context.js';

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
}

export interface HttpRequestContextOptions {
  /** Called once per request when the response has been sent (the access log). */
  onFinish?: (request: FinishedRequest) => void;
}

/** Where the correlation id is kept on the raw request, for code outside the context. */
export const CORRELATION_ID_KEY = Symbol.for('nestjs-production-readiness:correlationId');

type ContextualRequest = IncomingMessage & { [CORRELATION_ID_KEY]?: string };

/** The correlation id given to a raw or framework request, if the context saw it. */
export function correlationIdOfRequest(request: object): string | undefined {
  const raw = (request as { raw?: ContextualRequest }).raw ?? (request as ContextualRequest);
  return raw[CORRELATION_ID_KEY];
}

function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function beginUntraced(
  request: ContextualRequest,
  response: ServerResponse,
  routeOf: () => string | undefined,
  options: HttpRequestContextOptions,
): string {
  const correlationId = correlationIdFrom(request.headers);
  request[CORRELATION_ID_KEY] = correlationId;
  // Set before anything can answer, so 404s, parser errors and 500s carry it too.
  response.setHeader(CORRELATION_ID_HEADER, correlationId);
  const { onFinish } = options;
  if (onFinish) {
    const startedAt = performance.now();
    response.on('finish', () =>
      onFinish({
        method: request.method ?? 'GET',
        route: routeOf(),
        path: pathOf(request.url),
        statusCode: response.statusCode,
        durationMs: performance.now() - startedAt,
        correlationId,
      }),
    );
  }
  return correlationId;
}

// With tracing on, node:http's instrumentation has started the request's
// server span before the adapter runs: its trace id becomes the correlation
// id unless the client sent one, the response carries its `traceparent`, and
// the span is named by the route template once routing is known.
function beginTraced(
  request: ContextualRequest,
  response: ServerResponse,
  routeOf: () => string | undefined,
  options: HttpRequestContextOptions,
): string {
  const span = trace.getActiveSpan();
  const spanContext = activeSpanContext();
  const correlationId = correlationIdFrom(request.headers, spanContext?.traceId);
  request[CORRELATION_ID_KEY] = correlationId;
  response.setHeader(CORRELATION_ID_HEADER, correlationId);
  if (spanContext) response.setHeader(TRACEPARENT_HEADER, traceparentOf(spanContext));
  const traceId = spanContext && isSampled(spanContext) ? spanContext.traceId : undefined;
  const { onFinish } = options;
  const startedAt = performance.now();
  response.on('finish', () => {
    const method = request.method ?? 'GET';
    const route = routeOf();
    // The server span ends on 'close', after this: the name is still ours to set.
    if (route !== undefined && span?.isRecording()) {
      span.updateName(`${method} ${route}`);
      span.setAttribute('http.route', route);
    }
    onFinish?.({
      method,
      route,
      path: pathOf(request.url),
      statusCode: response.statusCode,
      durationMs: performance.now() - startedAt,
      correlationId,
      traceId,
    });
  });
  return correlationId;
}

interface ExpressLikeRequest extends ContextualRequest {
  route?: { path?: string };
  baseUrl?: string;
}

interface FastifyLikeInstance {
  addHook(
    name: 'onRequest',
    hook: (
      request: { raw: ContextualRequest; routeOptions?: { url?: string } },
      reply: { raw: ServerResponse },
      done: () => void,
    ) => void,
  ): unknown;
}

/**
 * Puts the correlation-id context first in the HTTP chain, before body
 * parsing, on Express or Fastify: reads or mints the id, echoes it in
 * `X-Correlation-ID`, and runs the rest of the request inside
 * RequestContext. Must run before the app registers its routes and parsers
 * (createServiceApp() does it).
 *
 * Registered on the adapter itself rather than as Nest middleware: Nest's
 * middleware runs after the body parsers (so their errors would carry no id),
 * and on Fastify through @fastify/middie 9 a wildcard route can match nothing.
 */
export function installHttpRequestContext(
  app: INestApplication,
  options: HttpRequestContextOptions = {},
): void {
  const adapter = app.getHttpAdapter();
  // Chosen once: with tracing off, requests take the path they always took.
  const begin = isTracingActive() ? beginTraced : beginUntraced;
  if (adapter.getType() === 'fastify') {
    const fastify = adapter.getInstance() as FastifyLikeInstance;
    fastify.addHook('onRequest', (request, reply, done) => {
      const correlationId = begin(request.raw, reply.raw, () => request.routeOptions?.url, options);
      RequestContext.run({ correlationId }, done);
    });
    return;
  }
  app.use((request: ExpressLikeRequest, response: ServerResponse, next: () => void) => {
    const routeOf = () =>
      request.route?.path === undefined
        ? undefined
        : `${request.baseUrl ?? ''}${request.route.path}`;
    const correlationId = begin(request, response, routeOf, options);
    RequestContext.run({ correlationId }, next);
  });
}
