import { Module, type DynamicModule } from '@nestjs/common';
import { MessageBus } from './message-bus.js';
import { MicroservicesMessageBus } from './message-bus.service.js';
import { MessageContextInterceptor } from './message-context.interceptor.js';
import { MessagingModuleClass, MESSAGING_OPTIONS_TYPE } from './messaging.module-definition.js';
import { serviceConfigProvider } from '../config/default-service-config.js';

/**
 * Connects the app to its message broker through `@nestjs/microservices`:
 * Kafka, NATS or RabbitMQ when configured, an in-process bus otherwise.
 * Imported from `nestjs-production-readiness/messaging`, or loaded by
 * ProductionReadinessModule when its `messaging` option is on. startMessageConsumers(app)
 * (bootstrapService() calls it) connects the consumer with
 * MessageContextInterceptor on its handlers only: as a global
 * (APP_INTERCEPTOR) every HTTP request would pay for its rxjs chain.
 */
@Module({
  providers: [
    serviceConfigProvider,
    MicroservicesMessageBus,
    { provide: MessageBus, useExisting: MicroservicesMessageBus },
    MessageContextInterceptor,
  ],
  exports: [MessageBus, MicroservicesMessageBus, MessageContextInterceptor],
})
export class MessagingModule extends MessagingModuleClass {
  /** The module with its options; every one has a default, so `forRoot()` is enough. */
  static forRoot(options: typeof MESSAGING_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
