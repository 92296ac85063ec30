import type { DependencyCheck, HttpDependency } from '../health.options.js';

/** GET on an HTTP dependency; any answer below 500 means it is up. */
export function httpCheck(dependency: HttpDependency): DependencyCheck {
  return {
    name: dependency.name,
    required: dependency.required ?? true,
    check: async (signal) => {
      const response = await fetch(dependency.url, { signal, redirect: 'manual' });
      await response.body?.cancel();
      if (response.status >= 500) return { up: false, reason: `answered ${response.status}` };
      return { up: true, details: { statusCode: response.status } };
    },
  };
}
