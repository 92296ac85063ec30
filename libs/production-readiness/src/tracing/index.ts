export { startTracing, type StartTracingOptions } from './start-tracing.js';
export {
  traceDatabaseQueries,
  type QueryRunnerLike,
  type TraceableDataSource,
} from './database-query-spans.js';
export type { DatabaseOptionsLike } from './database-query-attributes.js';
export {
  readTracingSettings,
  type OtlpProtocol,
  type SamplerName,
  type TracingOffReason,
  type TracingSettings,
} from './tracing-settings.js';
export { isTracingActive, tracingState, type TracingState } from './tracing-state.js';
