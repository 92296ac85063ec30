import { randomUUID } from 'node:crypto';

/** The header that carries the correlation id, both ways. */
export const CORRELATION_ID_HEADER = 'x-correlation-id';
export const REQUEST_ID_HEADER = 'x-request-id';
export const TRACEPARENT_HEADER = 'traceparent';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// W3C Trace Context §3.2: a version other than ff, a 32-hex trace id and a
// 16-hex parent id (neither all zeros), flags.
const TRACEPARENT = /^(?!ff)[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_PARENT_ID = '0'.repeat(16);

/** True for an id we accept from outside: letters, digits, `-_.:`, at most 128 characters. */
export function isSafeCorrelationId(value: unknown): value is string {
  return typeof value === 'string' && SAFE_ID.test(value);
}

/** The trace id of a valid W3C `traceparent`, if it is one. */
export function traceIdOf(traceparent: unknown): string | undefined {
  if (typeof traceparent !== 'string') return undefined;
  const match = TRACEPARENT.exec(traceparent.trim());
  return match && match[1] !== ZERO_TRACE_ID && match[2] !== ZERO_PARENT_ID ? match[1] : undefined;
}

type HeaderValue = string | string[] | undefined;

function first(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The correlation id of an incoming request or message: `X-Correlation-ID`,
 * else `X-Request-ID`, else the trace id of `traceparent`, each only when it
 * is a safe token; else `traceId`, the trace id of the request's span when it
 * is traced; otherwise a new UUID. Header names are lower case, as Node gives
 * them.
 */
export function correlationIdFrom(
  headers: Readonly<Record<string, HeaderValue>>,
  traceId?: string,
): string {
  const explicit = first(headers[CORRELATION_ID_HEADER]);
  if (isSafeCorrelationId(explicit)) return explicit;
  const requestId = first(headers[REQUEST_ID_HEADER]);
  if (isSafeCorrelationId(requestId)) return requestId;
  return traceIdOf(first(headers[TRACEPARENT_HEADER])) ?? traceId ?? randomUUID();
}
