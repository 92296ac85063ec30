import {
  Inject,
  Injectable,
  Logger,
  type INestApplication,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  ClientProxyFactory,
  type ClientProxy,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { SERVICE_CONFIG } from '../config/default-service-config.js';
import { CORRELATION_ID_HEADER } from '../context/correlation-id.js';
import { RequestContext } from '../context/request-context.js';
import { tracePublish } from '../tracing/message-tracing.js';
import { isTracingActive } from '../tracing/tracing-state.js';
import { optionalProvider } from '../bootstrap/optional-provider.js';
import { MessageBus, type MessageTransportKind } from './message-bus.js';
import { MessageContextInterceptor } from './message-context.interceptor.js';
import { withHeaders } from './message-headers.js';
import { MESSAGING_OPTIONS } from './messaging.module-definition.js';
import { resolveMessagingOptions, type MessagingOptions } from './messaging.options.js';
import { resolveMessageTransport, type MessageTransport } from './message-transport.js';

/**
 * MessageBus on `@nestjs/microservices`, its broker chosen from the config. It
 * publishes events, and startMessageConsumers() connects its consumer to the
 * app's `@EventPattern` handlers.
 */
@Injectable()
export class MicroservicesMessageBus extends MessageBus implements OnApplicationShutdown {
  private readonly logger = new Logger(MessageBus.name);
  private readonly transport: MessageTransport;
  private client?: ClientProxy;
  private connected?: Promise<unknown>;
  readonly isEnabled: boolean;
  private readonly isTraced = isTracingActive();

  constructor(
    @Inject(SERVICE_CONFIG) config: BaseServiceConfig,
    @Inject(MESSAGING_OPTIONS) options: MessagingOptions,
  ) {
    super();
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

  // The interceptor (context, metrics, in-flight count, consumer span) goes on
  // the message handlers only: they take the app's global enhancers when
  // connected, while the HTTP routes took theirs in init().
  async startConsumers(app: INestApplication): Promise<void> {
    const interceptor = optionalProvider(app, MessageContextInterceptor);
    if (!this.isEnabled || !interceptor) return;
    app.useGlobalInterceptors(interceptor);
    app.connectMicroservice(this.consumerOptions(), { inheritAppConfig: true });
    await app.startAllMicroservices();
    this.logger.log(`Consuming messages over ${this.kind}`);
  }

  async publish(pattern: string, data: unknown): Promise<void> {
    if (!this.isEnabled) {
      throw new Error(`Messaging is disabled; cannot publish ${pattern}.`);
    }
    await this.connect();
    const correlationId = RequestContext.correlationId;
    if (this.isTraced) {
      const headers: Record<string, string> = correlationId
        ? { [CORRELATION_ID_HEADER]: correlationId }
        : {};
      return tracePublish(this.kind, pattern, headers, async (traced) => {
        const message = await withHeaders(this.kind, data, traced);
        await lastValueFrom(this.publisher().emit(pattern, message), { defaultValue: undefined });
      });
    }
    const message = correlationId
      ? await withHeaders(this.kind, data, { [CORRELATION_ID_HEADER]: correlationId })
      : data;
    await lastValueFrom(this.publisher().emit(pattern, message), { defaultValue: undefined });
  }

  // A NATS PING, the RabbitMQ connection's state, the Kafka producer's connection.
  async ping(): Promise<{ transport: MessageTransportKind }> {
    const transport = this.kind;
    if (transport === 'in-process' || !this.isEnabled) return { transport };
    await this.connect();
    const client = this.publisher();
    if (transport === 'nats') {
      await client.unwrap<{ flush(): Promise<void> }>().flush();
    } else if (transport === 'rabbitmq') {
      if (!client.unwrap<{ isConnected(): boolean }>().isConnected()) {
        throw new Error('not connected to RabbitMQ');
      }
    }
    return { transport };
  }

  private publisher(): ClientProxy {
    return (this.client ??= ClientProxyFactory.create(this.transport.publisher));
  }

  // The connection outlives the request that first publishes; opened outside
  // its context so the client's own logs don't carry that request's id.
  private connect(): Promise<unknown> {
    this.connected ??= RequestContext.outside(() => this.publisher().connect()).catch(
      (error: unknown) => {
        this.connected = undefined;
        throw error;
      },
    );
    return this.connected;
  }

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.client?.close();
    } catch (error) {
      this.logger.warn(`Closing the ${this.kind} publisher failed: ${String(error)}`);
    }
  }
}
