export { InProcessBus, InProcessClient, InProcessContext, InProcessServer } from './in-process.transport.js';
export { MessageBus } from './message-bus.service.js';
export {
  resolveMessageTransport,
  type MessageTransport,
  type MessageTransportKind,
} from './message-transport.js';
export { MessagingModule } from './messaging.module.js';
export { MESSAGING_OPTIONS } from './messaging.module-definition.js';
export type { MessagingOptions } from './messaging.options.js';
