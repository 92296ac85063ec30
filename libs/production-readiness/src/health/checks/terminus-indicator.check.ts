import type { HealthIndicatorResult } from '@nestjs/terminus';
import type { DependencyCheck } from '../health.options.js';

/**
 * Wraps a terminus indicator (`() => this.http.pingCheck('api', url)`, or a
 * custom one built with HealthIndicatorService) as a check, unchanged.
 */
export function fromTerminusIndicator(
  name: string,
  indicator: () => PromiseLike<HealthIndicatorResult> | HealthIndicatorResult,
  required = true,
): DependencyCheck {
  return {
    name,
    required,
    check: async () => {
      const result = await indicator();
      const entries = Object.values(result);
      const down = entries.find((entry) => entry.status !== 'up');
      if (down) {
        return { up: false, reason: typeof down.message === 'string' ? down.message : 'down' };
      }
      if (entries.length !== 1) return { up: true };
      // terminus rejects details that name `status` at all, even undefined.
      const details = Object.fromEntries(
        Object.entries(entries[0]).filter(([key]) => key !== 'status'),
      );
      return { up: true, details };
    },
  };
}
