// The `nestjs-production-readiness/messaging` entry: what of messaging needs
// @nestjs/microservices. ProductionReadinessModule loads MessagingModule
// itself when `messaging` is on; this entry is for using it alone, for the
// interceptor on an app's own handlers and for reading and setting headers.
export { MessageContextInterceptor } from './message-context.interceptor.js';
export { messageHeader, withHeaders } from './message-headers.js';
export { MessagingModule } from './messaging.module.js';
