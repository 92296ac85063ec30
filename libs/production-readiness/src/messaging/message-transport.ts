import {
  Transport,
  type ClientOptions,
  type CustomClientOptions,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import type { BaseServiceConfig } from '../config/base-service.config.js';
import { InProcessBus, InProcessClient, InProcessServer } from './in-process.transport.js';
import type { MessageTransportKind } from './message-bus.js';

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
      consumer: { transport: Transport.RMQ, options },
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
