export { startTracing, type StartTracingOptions } from './start-tracing.js';
export {
  readTracingSettings,
  type OtlpProtocol,
  type SamplerName,
  type TracingOffReason,
  type TracingSettings,
} from './tracing-settings.js';
export { isTracingActive, tracingState, type TracingState } from './tracing-state.js';
