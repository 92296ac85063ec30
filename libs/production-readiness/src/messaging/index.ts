export {
  InProcessBus,
  InProcessClient,
  InProcessContext,
  InProcessRecord,
  InProcessServer,
} from './in-process.transport.js';
export { MessageBus } from './message-bus.service.js';
export { MessageContextInterceptor } from './message-context.interceptor.js';
export { messageHeader, withHeaders } from './message-headers.js';
export {
  resolveMessageTransport,
  type MessageTransport,
  type MessageTransportKind,
} from './message-transport.js';
export { MessagingModule } from './messaging.module.js';
export { MESSAGING_OPTIONS } from './messaging.module-definition.js';
export type { MessagingOptions } from './messaging.options.js';
export { startMessageConsumers } from './start-message-consumers.js';
