import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { MessageBus } from './message-bus.service.js';
import { MessageContextInterceptor } from './message-context.interceptor.js';
import { MessagingModuleClass } from './messaging.module-definition.js';

/**
 * Connects the app to its message broker through `@nestjs/microservices`:
 * Kafka, NATS or RabbitMQ when configured, an in-process bus otherwise.
 * Requires the config from ServiceConfigModule.
 */
@Module({
  providers: [MessageBus, { provide: APP_INTERCEPTOR, useClass: MessageContextInterceptor }],
  exports: [MessageBus],
})
export class MessagingModule extends MessagingModuleClass {}
