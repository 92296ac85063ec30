import type { Redis } from 'ioredis';
import type { DependencyCheck } from '../health.options.js';

/** PING on the app's own Redis connection; never a new client per probe. */
export function redisCheck(client: Redis, required = true): DependencyCheck {
  return {
    name: 'redis',
    required,
    check: async () => {
      if (client.status !== 'ready') throw new Error(`connection ${client.status}`);
      const answer = await client.ping();
      if (answer !== 'PONG') throw new Error('unexpected answer to PING');
    },
  };
}
