import type { Type } from '@nestjs/common';
import { IsOptional } from 'class-validator';
import type { BaseServiceConfig } from './base-service.config.js';

type WithOptional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

/**
 * A subclass of `base` in which the named settings may be left unset. Use it
 * for what the standards document requires but your service does without:
 *
 * ```ts
 * class EssayServiceConfig extends optionalSettings(BaseServiceConfig, 'REDIS_URL') {}
 * ```
 *
 * The settings become `T | undefined` in the type, so code that uses them has
 * to handle their absence.
 */
export function optionalSettings<T extends BaseServiceConfig, K extends keyof T & string>(
  base: Type<T>,
  ...settings: K[]
): Type<WithOptional<T, K>> {
  // A named class, so error messages and Nest's injector speak of the base.
  const withOptional = class extends (base as Type<BaseServiceConfig>) {};
  Object.defineProperty(withOptional, 'name', { value: base.name });
  for (const setting of settings) {
    IsOptional()(withOptional.prototype, setting);
  }
  return withOptional as unknown as Type<WithOptional<T, K>>;
}
