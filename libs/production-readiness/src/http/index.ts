export { HttpPipelineModule } from './http-pipeline.module.js';
export {
  HTTP_OPTIONS,
  DEFAULT_BODY_DEPTH_LIMIT,
  DEFAULT_BODY_LIMIT_BYTES,
  type HttpOptions,
} from './http.options.js';
export {
  ANSWERED_NO_CONTENT,
  HttpRequestPipeline,
  PipelineStage,
  type PreRoutingStep,
  type StepVerdict,
} from './http-request-pipeline.js';
export { correlationIdOfRequest, type FinishedRequest } from './request-entry.js';
export { DEFAULT_SERVER_LIMITS, type ServerLimitsOptions } from './server-limits.js';
