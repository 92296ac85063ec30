import { ServerRMQ, Transport } from '@nestjs/microservices';
import { describe, expect, it } from 'vitest';
import { InProcessClient, InProcessServer } from './in-process.transport.js';
import { resolveMessageTransport } from './message-transport.js';

describe('resolveMessageTransport', () => {
  it('uses the in-process bus when no broker is configured', () => {
    const transport = resolveMessageTransport({}, 'essays');
    expect(transport.kind).toBe('in-process');
    expect((transport.consumer as { strategy: unknown }).strategy).toBeInstanceOf(InProcessServer);
    expect((transport.publisher as { customClass: unknown }).customClass).toBe(InProcessClient);
  });

  it('wires the standards document Kafka settings to the Kafka transport', () => {
    const transport = resolveMessageTransport(
      {
        KAFKA_BOOTSTRAP_SERVERS: 'kafka-1:9092, kafka-2:9092',
        KAFKA_GROUP_ID: 'essay-workers',
        KAFKA_AUTO_OFFSET_RESET: 'latest',
        NATS_URL: 'nats://127.0.0.1:4222',
      },
      'essay-service',
    );
    expect(transport.kind).toBe('kafka');
    expect(transport.consumer).toEqual({
      transport: Transport.KAFKA,
      options: {
        client: { clientId: 'essay-service', brokers: ['kafka-1:9092', 'kafka-2:9092'] },
        consumer: { groupId: 'essay-workers' },
        subscribe: { fromBeginning: false },
      },
    });
    expect(transport.publisher).toEqual({
      transport: Transport.KAFKA,
      options: {
        client: { clientId: 'essay-service', brokers: ['kafka-1:9092', 'kafka-2:9092'] },
        producerOnlyMode: true,
      },
    });
  });

  it('reads from the earliest offset unless told latest', () => {
    const transport = resolveMessageTransport(
      { KAFKA_BOOTSTRAP_SERVERS: 'k:9092', KAFKA_GROUP_ID: 'g' },
      'svc',
    );
    expect(transport.consumer).toMatchObject({ options: { subscribe: { fromBeginning: true } } });
  });

  it('prefers NATS over RabbitMQ and shares work through the queue group', () => {
    const transport = resolveMessageTransport(
      { NATS_URL: 'nats://a:4222,nats://b:4222', RABBITMQ_URL: 'amqp://guest:guest@r:5672' },
      'essay-service',
    );
    expect(transport.kind).toBe('nats');
    expect(transport.consumer).toEqual({
      transport: Transport.NATS,
      options: {
        servers: ['nats://a:4222', 'nats://b:4222'],
        queue: 'essay-service',
        // nats.js would give up after 10 attempts: a consumer gone for good after ~20 s.
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1_000,
      },
    });
  });

  it('consumes RabbitMQ with a server of its own that acknowledges each message after its handler', () => {
    const transport = resolveMessageTransport(
      { RABBITMQ_URL: 'amqp://guest:guest@r:5672' },
      'essays',
    );
    expect(transport.kind).toBe('rabbitmq');
    // What it acknowledges and when is proven against a real broker
    // (test/integration/overload-messages.spec.ts).
    expect((transport.consumer as { strategy?: unknown }).strategy).toBeInstanceOf(ServerRMQ);
    expect(transport.publisher).toEqual({
      transport: Transport.RMQ,
      options: {
        urls: ['amqp://guest:guest@r:5672'],
        queue: 'essays',
        queueOptions: { durable: true },
      },
    });
  });
});
