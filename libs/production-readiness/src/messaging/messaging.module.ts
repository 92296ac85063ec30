import { Module } from '@nestjs/common';
import { MessageBus } from './message-bus.service.js';
import { MessageContextInterceptor } from './message-context.interceptor.js';
import { MessagingModuleClass } from './messaging.module-definition.js';

/**
 * Connects the app to its message broker through `@nestjs/microservices`:
 * Kafka, NATS or RabbitMQ when configured, an in-process bus otherwise.
 * Requires the config from ServiceConfigModule. startMessageConsumers(app)
 * (bootstrapService() calls it) connects the consumer with
 * MessageContextInterceptor on its handlers only: as a global
 * (APP_INTERCEPTOR) every HTTP request would pay for its rxjs chain.
 */
@Module({
  providers: [MessageBus, MessageContextInterceptor],
  exports: [MessageBus, MessageContextInterceptor],
})
export class MessagingModule extends MessagingModuleClass {}
