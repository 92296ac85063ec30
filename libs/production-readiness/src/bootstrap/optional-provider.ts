import type { Abstract, INestApplication, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';

/**
 * A provider of the app if one of its modules has it, else undefined. Asked
 * through the root ModuleRef rather than `app.get()`: Nest logs every failed
 * `app.get()` as an ERROR, which would be a false alarm for a concern module
 * the app leaves out.
 */
export function optionalProvider<T>(
  app: INestApplication,
  token: Type<T> | Abstract<T>,
): T | undefined {
  try {
    return app.get(ModuleRef).get(token, { strict: false });
  } catch {
    return undefined;
  }
}
