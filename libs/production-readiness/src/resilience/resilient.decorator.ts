import type { ExecuteOptions } from './resilience-pipeline.js';

/** Where ResiliencePolicies leaves itself on the instances whose methods are @Resilient. */
export const RESILIENCE_POLICIES_REF = Symbol('nestjs-production-readiness:ResiliencePolicies');

/** Marks a class whose methods are @Resilient, for ResiliencePolicies to find. */
export const RESILIENT_CLASS = Symbol('nestjs-production-readiness:Resilient');

interface PoliciesRef {
  execute<T>(
    name: string,
    fn: () => Promise<T> | T,
    options?: Omit<ExecuteOptions<T>, 'signal'>,
  ): Promise<T>;
}

/**
 * Runs the method under the named policy, as `ResiliencePolicies.execute()`
 * would; the method must be a provider's or a controller's of an app that
 * imports ResilienceModule.
 *
 * ```ts
 * @Resilient('language-tool', { idempotent: true })
 * async check(text: string): Promise<number> { ... }
 * ```
 */
export function Resilient(
  policy: string,
  options: Omit<ExecuteOptions<unknown>, 'signal'> = {},
): MethodDecorator {
  return (target, key, descriptor: PropertyDescriptor) => {
    const original = descriptor.value as (...args: unknown[]) => unknown;
    if (typeof original !== 'function') {
      throw new TypeError(`@Resilient('${policy}') decorates methods only, not ${String(key)}`);
    }
    const wrapped = function (this: Record<symbol, PoliciesRef | undefined>, ...args: unknown[]) {
      const policies = this[RESILIENCE_POLICIES_REF];
      if (!policies) {
        throw new Error(
          `@Resilient('${policy}') on ${target.constructor.name}.${String(key)}: the instance was ` +
            'not created by Nest in an app that imports ResilienceModule (or ProductionReadinessModule).',
        );
      }
      return policies.execute(policy, () => original.apply(this, args), options);
    };
    // Route and handler decorators listed below this one put their metadata on the original.
    for (const metadataKey of Reflect.getMetadataKeys(original) as unknown[]) {
      Reflect.defineMetadata(metadataKey, Reflect.getMetadata(metadataKey, original), wrapped);
    }
    Object.defineProperty(wrapped, 'name', { value: original.name });
    Reflect.defineMetadata(RESILIENT_CLASS, true, target.constructor);
    descriptor.value = wrapped;
    return descriptor;
  };
}
