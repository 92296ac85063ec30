import type { Redis } from 'ioredis';
import type { DependencyCheck } from '../health.options.js';

/** PING on the app's own Redis connection; never a new client per probe. */
export function redisCheck(client: Redis, required = true): DependencyCheck {
  return {
    name: 'redis',
    required,
    check: async () => {
      if (client.status !== 'ready') return { up: false, reason: `connection ${client.status}` };
      const answer = await client.ping();
      if (answer !== 'PONG') return { up: false, reason: 'unexpected answer to PING' };
      return { up: true };
    },
  };
}
