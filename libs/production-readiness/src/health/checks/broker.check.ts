import type { MessageBus } from '../../messaging/message-bus.js';
import type { DependencyCheck } from '../health.options.js';

/** A round trip on the message bus' own connection (NATS PING, RabbitMQ connection state). */
export function brokerCheck(bus: MessageBus, required = true): DependencyCheck {
  return {
    name: 'broker',
    required,
    check: async () => {
      try {
        return { up: true, details: await bus.ping() };
      } catch (error) {
        return { up: false, reason: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}
