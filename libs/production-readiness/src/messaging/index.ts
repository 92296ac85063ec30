// What the main entry exports of messaging: free of @nestjs/microservices, so
// an app without messaging needs no broker packages. The transports, the
// module and the header helpers are the `nestjs-production-readiness/messaging`
// entry (microservices.ts).
export { MessageBus, type MessageTransportKind } from './message-bus.js';
export type { MessagingOptions } from './messaging.options.js';
export { startMessageConsumers } from './start-message-consumers.js';
