import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { ErrorCode } from './error-code.js';
import { ServiceError, type FieldError } from './service-error.js';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

function findForbiddenKey(value: unknown, path: string, depth = 0): string | undefined {
  if (value === null || typeof value !== 'object' || depth > 32) return undefined;
  for (const key of Object.keys(value)) {
    const keyPath = path ? `${path}.${key}` : key;
    if (FORBIDDEN_KEYS.has(key)) return keyPath;
    const found = findForbiddenKey((value as Record<string, unknown>)[key], keyPath, depth + 1);
    if (found) return found;
  }
  return undefined;
}

export function validationFailed(errors: FieldError[]): ServiceError {
  return new ServiceError(
    ErrorCode.VALIDATION_FAILED,
    `The request has ${errors.length} invalid field${errors.length === 1 ? '' : 's'}.`,
    { errors },
  );
}

/**
 * The global ValidationPipe: whitelist, forbid unknown fields, transform, and
 * answer VALIDATION_FAILED with one `{ field, message }` per failure. Bodies
 * and queries with `__proto__`, `constructor` or `prototype` keys are refused
 * before class-transformer could copy them onto anything.
 */
export class ProblemValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => validationFailed(flatten(errors)),
    });
  }

  // Not async: ValidationPipe's transform is, and a second promise per parameter buys nothing.
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' || metadata.type === 'query') {
      const forbidden = findForbiddenKey(value, '');
      if (forbidden) {
        return Promise.reject(
          validationFailed([
            { field: forbidden, message: `${forbidden} is not an allowed field name` },
          ]),
        );
      }
    }
    return super.transform(value, metadata) as Promise<unknown>;
  }
}
