export { GracefulShutdown, type ShutdownOutcome } from './graceful-shutdown.service.js';
export { MessageHandlersInFlight } from './message-handlers-in-flight.js';
export { ShutdownModule } from './shutdown.module.js';
export {
  DEFAULT_CLEANUP_TIMEOUT_MS,
  DEFAULT_KUBERNETES_DRAIN_DELAY_MS,
  DEFAULT_SHUTDOWN_SIGNALS,
  SHUTDOWN_OPTIONS,
  type ShutdownOptions,
} from './shutdown.options.js';
