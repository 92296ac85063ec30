import type { INestApplication } from '@nestjs/common';

export type MessageTransportKind = 'kafka' | 'nats' | 'rabbitmq' | 'in-process';

/**
 * The app's connection to its message broker: inject it by this class to
 * publish. It is its own file, free of `@nestjs/microservices`, so the health,
 * report and bootstrap code can ask for it while an app without messaging
 * does not need that package installed; MessagingModule provides the
 * implementation (MicroservicesMessageBus).
 */
export abstract class MessageBus {
  /** False when the app has messaging off: publishing throws. */
  abstract readonly isEnabled: boolean;
  /** `kafka`, `nats`, `rabbitmq` or `in-process`. */
  abstract readonly kind: MessageTransportKind;
  /**
   * Publishes an event; resolves once the broker has taken it. The current
   * correlation id travels in the message's headers; when tracing is on, so
   * does the `traceparent` of a producer span `publish <pattern>`.
   */
  abstract publish(pattern: string, data: unknown): Promise<void>;
  /**
   * A cheap round trip to the broker on the app's own publishing connection,
   * for health checks. Never opens a second client. Rejects when down.
   */
  abstract ping(): Promise<{ transport: MessageTransportKind }>;
  /** Connects the app's `@EventPattern` handlers and starts consuming; see startMessageConsumers(). */
  abstract startConsumers(app: INestApplication): Promise<void>;
  /**
   * Calls `listener` each time the consumer and the publisher are both
   * connected again after either lost the broker: what was published
   * meanwhile may have reached no one (core NATS keeps nothing), so an app
   * with an outbox publishes it again then. Returns a function that removes
   * the listener. The in-process bus never loses its broker.
   */
  onBrokerReconnect(_listener: () => void): () => void {
    return () => undefined;
  }
  /**
   * Calls `listener` once startConsumers() has the consumer listening (at
   * once when it has already), so what the app publishes from then on has
   * someone to receive it; never when messaging is off. Returns a function
   * that removes the listener.
   */
  abstract onConsumersStarted(listener: () => void): () => void;
}
