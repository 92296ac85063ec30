import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ClientProxyFactory, type ClientProxy, type MicroserviceOptions } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { MESSAGING_OPTIONS } from './messaging.module-definition.js';
import { resolveMessagingOptions, type MessagingOptions } from './messaging.options.js';
import {
  resolveMessageTransport,
  type MessageTransport,
  type MessageTransportKind,
} from './message-transport.js';

/**
 * The app's connection to its message broker, chosen from the config. It
 * publishes events, and `createServiceApp()` connects its consumer to the
 * app's `@EventPattern` handlers.
 */
@Injectable()
export class MessageBus implements OnApplicationShutdown {
  private readonly logger = new Logger(MessageBus.name);
  private readonly transport: MessageTransport;
  private client?: ClientProxy;
  readonly isEnabled: boolean;

  constructor(config: BaseServiceConfig, @Inject(MESSAGING_OPTIONS) options: MessagingOptions) {
    const resolved = resolveMessagingOptions(options);
    this.isEnabled = resolved.enabled;
    this.transport = resolveMessageTransport(config, resolved.queue ?? config.SERVICE_NAME);
  }

  /** `kafka`, `nats`, `rabbitmq` or `in-process`. */
  get kind(): MessageTransportKind {
    return this.transport.kind;
  }

  /** The options to pass to `app.connectMicroservice()` to consume. */
  consumerOptions(): MicroserviceOptions {
    return this.transport.consumer;
  }

  /** Publishes an event; resolves once the broker has taken it. */
  async publish(pattern: string, data: unknown): Promise<void> {
    if (!this.isEnabled) {
      throw new Error(`Messaging is disabled; cannot publish ${pattern}.`);
    }
    this.client ??= ClientProxyFactory.create(this.transport.publisher);
    await lastValueFrom(this.client.emit(pattern, data), { defaultValue: undefined });
  }

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.client?.close();
    } catch (error) {
      this.logger.warn(`Closing the ${this.kind} publisher failed: ${String(error)}`);
    }
  }
}
