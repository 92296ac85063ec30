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
import { ErrorCode, ServiceError } from '../errors/service-error.js';
import { settleWithin } from '../resilience/settle-within.js';
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

// The transports' statuses of a consumer that receives nothing (NATS, RabbitMQ, Kafka).
const CONSUMER_DOWN = new Set(['disconnected', 'reconnecting', 'crashed', 'stopped']);

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
  private readonly publishTimeoutMs: number;
  /** The consumer's last status from its transport (`connected`, `disconnected`, …), once started. */
  private consumerStatus?: string;
  private publisherStatus?: string;
  /** Set when the consumer or the publisher lost the broker; cleared once both are back. */
  private hasLostBroker = false;
  private readonly reconnectListeners = new Set<() => void>();
  private readonly startListeners = new Set<() => void>();
  private areConsumersStarted = false;
  readonly isEnabled: boolean;
  private readonly isTraced = isTracingActive();

  constructor(
    @Inject(SERVICE_CONFIG) config: BaseServiceConfig,
    @Inject(MESSAGING_OPTIONS) options: MessagingOptions,
  ) {
    super();
    const resolved = resolveMessagingOptions(options);
    this.isEnabled = resolved.enabled;
    this.publishTimeoutMs = resolved.publishTimeoutMs;
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
    const consumer = app.connectMicroservice(this.consumerOptions(), { inheritAppConfig: true });
    // Readiness covers the consumer too: a service that publishes but no
    // longer receives is not ready (ping()).
    consumer.status.subscribe((status) => {
      this.consumerStatus = String(status);
      this.statusChanged();
    });
    await app.startAllMicroservices();
    this.logger.log(`Consuming messages over ${this.kind}`);
    this.areConsumersStarted = true;
    for (const listener of this.startListeners) listener();
    this.startListeners.clear();
  }

  onConsumersStarted(listener: () => void): () => void {
    if (this.areConsumersStarted) {
      queueMicrotask(listener);
      return () => undefined;
    }
    this.startListeners.add(listener);
    return () => this.startListeners.delete(listener);
  }

  // The listeners run once the consumer receives again and the publisher
  // can send again (their connections come back separately), so what they
  // publish reaches the consumer.
  private statusChanged(): void {
    const isDown = (status?: string) => status !== undefined && CONSUMER_DOWN.has(status);
    if (isDown(this.consumerStatus) || isDown(this.publisherStatus)) {
      this.hasLostBroker = true;
      return;
    }
    if (!this.hasLostBroker) return;
    this.hasLostBroker = false;
    this.logger.log(`Connected to ${this.kind} again`);
    for (const listener of this.reconnectListeners) listener();
  }

  override onBrokerReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  async publish(pattern: string, data: unknown): Promise<void> {
    if (!this.isEnabled) {
      throw new Error(`Messaging is disabled; cannot publish ${pattern}.`);
    }
    await this.withinPublishTimeout(pattern, this.send(pattern, data));
  }

  // A broker that is cut off (RabbitMQ until its heartbeat gives up, a
  // connect into a black hole) would hold the caller for many seconds.
  private async withinPublishTimeout(pattern: string, sending: Promise<void>): Promise<void> {
    const details = { dependency: 'broker', transport: this.kind, pattern };
    try {
      await settleWithin(
        sending,
        this.publishTimeoutMs,
        () =>
          new ServiceError(
            ErrorCode.DEPENDENCY_UNAVAILABLE,
            `The ${this.kind} broker did not take ${pattern} within ${this.publishTimeoutMs} ms.`,
            { details },
          ),
      );
    } catch (error) {
      if (error instanceof ServiceError) throw error;
      throw new ServiceError(
        ErrorCode.DEPENDENCY_UNAVAILABLE,
        `The ${this.kind} broker refused ${pattern}.`,
        { cause: error, details },
      );
    }
  }

  private async send(pattern: string, data: unknown): Promise<void> {
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
    if (this.consumerStatus && CONSUMER_DOWN.has(this.consumerStatus)) {
      throw new Error(`the ${transport} consumer is ${this.consumerStatus}`);
    }
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
    if (!this.client) {
      this.client = ClientProxyFactory.create(this.transport.publisher);
      this.client.status.subscribe((status) => {
        this.publisherStatus = String(status);
        this.statusChanged();
      });
    }
    return this.client;
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
