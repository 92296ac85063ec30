// The `nestjs-production-readiness/messaging` entry: everything of messaging
// that needs @nestjs/microservices. ProductionReadinessModule loads
// MessagingModule itself when `messaging` is on.
export {
  InProcessBus,
  InProcessClient,
  InProcessContext,
  InProcessRecord,
  InProcessServer,
} from './in-process.transport.js';
export { MicroservicesMessageBus } from './message-bus.service.js';
export { MessageContextInterceptor } from './message-context.interceptor.js';
export { messageHeader, withHeaders } from './message-headers.js';
export { resolveMessageTransport, type MessageTransport } from './message-transport.js';
export { MessagingModule } from './messaging.module.js';
export { MESSAGING_OPTIONS } from './messaging.module-definition.js';
