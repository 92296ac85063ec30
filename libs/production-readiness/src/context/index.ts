export {
  CORRELATION_ID_HEADER,
  correlationIdFrom,
  isSafeCorrelationId,
  traceIdOf,
} from './correlation-id.js';
export { RequestContext, type RequestContextStore } from './request-context.js';
