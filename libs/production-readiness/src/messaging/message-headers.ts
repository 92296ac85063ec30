import {
  KafkaContext,
  NatsContext,
  NatsRecordBuilder,
  RmqContext,
  RmqRecordBuilder,
} from '@nestjs/microservices';
import { InProcessContext, InProcessRecord } from './in-process.transport.js';
import type { MessageTransportKind } from './message-bus.js';

/**
 * Wraps an event's data so the transport sends `headers` beside it: NATS
 * headers, RabbitMQ message properties, Kafka headers, or the in-process
 * envelope.
 */
export async function withHeaders(
  kind: MessageTransportKind,
  data: unknown,
  headers: Record<string, string>,
): Promise<unknown> {
  switch (kind) {
    case 'kafka':
      return { value: data, headers };
    case 'nats': {
      // Loaded here: the NATS client is an optional dependency.
      const nats = await import('@nats-io/transport-node');
      const natsHeaders = nats.headers();
      for (const [name, value] of Object.entries(headers)) natsHeaders.set(name, value);
      return new NatsRecordBuilder(data).setHeaders(natsHeaders).build();
    }
    case 'rabbitmq':
      return new RmqRecordBuilder(data).setOptions({ headers }).build();
    case 'in-process':
      return new InProcessRecord(data, headers);
  }
}

function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}

/** Reads one header of a consumed message, whichever transport brought it. */
export function messageHeader(context: unknown, name: string): string | undefined {
  if (context instanceof InProcessContext) return context.getHeaders()[name];
  if (context instanceof NatsContext) {
    const headers = context.getHeaders() as { get(name: string): string } | undefined;
    return headers?.get(name) || undefined;
  }
  if (context instanceof RmqContext) {
    const message = context.getMessage() as { properties?: { headers?: Record<string, unknown> } };
    return asText(message.properties?.headers?.[name]);
  }
  if (context instanceof KafkaContext) {
    return asText(context.getMessage().headers?.[name]);
  }
  return undefined;
}
