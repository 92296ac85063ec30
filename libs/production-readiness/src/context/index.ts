export {
  CORRELATION_ID_HEADER,
  correlationIdFrom,
  isSafeCorrelationId,
  traceIdOf,
} from './correlation-id.js';
export {
  correlationIdOfRequest,
  installHttpRequestContext,
  type FinishedRequest,
  type HttpRequestContextOptions,
} from './http-request-context.js';
export { RequestContext, type RequestContextStore } from './request-context.js';
