import {
  RmqContext,
  ServerRMQ,
  Transport,
  type ClientOptions,
  type CustomClientOptions,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import type { BaseServiceConfig } from '../config/base-service.config.js';
import { InProcessBus, InProcessClient, InProcessServer } from './in-process.transport.js';
import type { MessageTransportKind } from './message-bus.js';

/** Messages a RabbitMQ consumer holds unacknowledged at once. */
export const RABBITMQ_PREFETCH = 16;

/** Which broker to use and how to reach it, for both consuming and publishing. */
export interface MessageTransport {
  kind: MessageTransportKind;
  consumer: MicroserviceOptions;
  publisher: ClientOptions | CustomClientOptions;
}

/**
 * Picks the transport from the config: Kafka when KAFKA_BOOTSTRAP_SERVERS is
 * set, else NATS when NATS_URL is set, else RabbitMQ when RABBITMQ_URL is set,
 * else the in-process bus.
 */
export function resolveMessageTransport(
  config: Partial<BaseServiceConfig>,
  queue: string,
): MessageTransport {
  if (config.KAFKA_BOOTSTRAP_SERVERS) {
    const client = {
      clientId: queue,
      brokers: config.KAFKA_BOOTSTRAP_SERVERS.split(',').map((broker) => broker.trim()),
    };
    return {
      kind: 'kafka',
      consumer: {
        transport: Transport.KAFKA,
        options: {
          client,
          consumer: { groupId: config.KAFKA_GROUP_ID ?? queue },
          subscribe: { fromBeginning: config.KAFKA_AUTO_OFFSET_RESET !== 'latest' },
        },
      },
      publisher: { transport: Transport.KAFKA, options: { client, producerOnlyMode: true } },
    };
  }
  if (config.NATS_URL) {
    const servers = config.NATS_URL.split(',').map((server) => server.trim());
    // nats.js stops after 10 reconnect attempts 2 s apart: a consumer would be
    // gone for good after a 20 s outage. Both connections retry for as long
    // as the server is away, every second.
    const reconnect = { maxReconnectAttempts: -1, reconnectTimeWait: 1_000 };
    return {
      kind: 'nats',
      consumer: { transport: Transport.NATS, options: { servers, queue, ...reconnect } },
      publisher: { transport: Transport.NATS, options: { servers, ...reconnect } },
    };
  }
  if (config.RABBITMQ_URL) {
    const options = { urls: [config.RABBITMQ_URL], queue, queueOptions: { durable: true } };
    return {
      kind: 'rabbitmq',
      consumer: rabbitMqConsumer(options),
      publisher: { transport: Transport.RMQ, options },
    };
  }
  const bus = new InProcessBus();
  return {
    kind: 'in-process',
    consumer: { strategy: new InProcessServer(bus) },
    publisher: { customClass: InProcessClient, options: { bus } },
  };
}

/**
 * The RabbitMQ consumer acknowledges each message once its handler has
 * ended (success, error, or refused by a guard: Nest's processing-end hook
 * runs after each), not on delivery as Nest's default does: with at most
 * RABBITMQ_PREFETCH unacknowledged, the broker keeps the rest while the
 * handlers wait (overload) and hands a crashed consumer's unfinished ones
 * to the next. A Nest without the hook (before 11.1) keeps its default.
 */
function rabbitMqConsumer(options: RmqOptionsOfOurs): MicroserviceOptions {
  const probe = ServerRMQ.prototype as Partial<Pick<ServerRMQ, 'setOnProcessingEndHook'>>;
  if (typeof probe.setOnProcessingEndHook !== 'function') {
    return { transport: Transport.RMQ, options };
  }
  const server = new ServerRMQ({ ...options, noAck: false, prefetchCount: RABBITMQ_PREFETCH });
  server.setOnProcessingEndHook((_transport, context) => {
    if (!(context instanceof RmqContext)) return;
    try {
      const channel = context.getChannelRef() as { ack(message: unknown): void };
      channel.ack(context.getMessage());
    } catch {
      // The channel closed meanwhile: the broker hands the message out again.
    }
  });
  return { strategy: server };
}

type RmqOptionsOfOurs = { urls: string[]; queue: string; queueOptions: { durable: boolean } };
