import { HttpException } from '@nestjs/common';
import {
  HEADERS_METADATA,
  PARAMTYPES_METADATA,
  PROPERTY_DEPS_METADATA,
  SELF_DECLARED_DEPS_METADATA,
} from '@nestjs/common/constants.js';
import type { Reflector } from '@nestjs/core';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';

// What terminus' @HealthCheck() leaves on a handler, its only mark: the
// Cache-Control header of its default `noCache: true`, set with Nest's
// @Header() (terminus dist/health-check/health-check.decorator.js).
const HEALTH_CHECK_HEADER = { name: 'Cache-Control', value: 'no-cache, no-store, must-revalidate' };

/** A class or method, as the Reflector reads decorators from. */
type DecoratedTarget = Parameters<Reflector['get']>[1];

// By name: the app may hold another copy of terminus than the library's.
const isHealthCheckService = (type: unknown): boolean =>
  typeof type === 'function' && type.name === HealthCheckService.name;

// Whether the controller is given terminus' HealthCheckService, read from the
// metadata Nest's injector reads: constructor types, @Inject() overrides of
// them, and @Inject() properties.
function usesHealthCheckService(reflector: Reflector, controller: DecoratedTarget): boolean {
  const constructorTypes = reflector.get<unknown[] | undefined>(PARAMTYPES_METADATA, controller);
  const injected = reflector.get<Array<{ param: unknown }> | undefined>(
    SELF_DECLARED_DEPS_METADATA,
    controller,
  );
  const properties = reflector.get<Array<{ type: unknown }> | undefined>(
    PROPERTY_DEPS_METADATA,
    controller,
  );
  return (
    (constructorTypes ?? []).some(isHealthCheckService) ||
    (injected ?? []).some(({ param }) => isHealthCheckService(param)) ||
    (properties ?? []).some(({ type }) => isHealthCheckService(type))
  );
}

/**
 * Whether a route is an app's own terminus health check: the handler
 * carries `@HealthCheck()`'s mark and its controller is given terminus'
 * HealthCheckService. The mark alone is only a header, one a route that
 * must not be public may send too. A check declared `@HealthCheck({ noCache: false })`
 * leaves no mark and is not recognised.
 */
export function isTerminusHealthCheck(
  reflector: Reflector,
  handler: DecoratedTarget,
  controller: DecoratedTarget,
): boolean {
  const headers = reflector.get<Array<{ name: string; value: unknown }> | undefined>(
    HEADERS_METADATA,
    handler,
  );
  const isMarked = (headers ?? []).some(
    ({ name, value }) =>
      name.toLowerCase() === HEALTH_CHECK_HEADER.name.toLowerCase() &&
      value === HEALTH_CHECK_HEADER.value,
  );
  return isMarked && usesHealthCheckService(reflector, controller);
}

function isHealthCheckResult(body: unknown): body is HealthCheckResult {
  if (typeof body !== 'object' || body === null) return false;
  const { status, details, info, error } = body as Record<string, unknown>;
  const isRecord = (value: unknown) => typeof value === 'object' && value !== null;
  return (
    (status === 'error' || status === 'shutting_down') &&
    isRecord(details) &&
    (info === undefined || isRecord(info)) &&
    (error === undefined || isRecord(error))
  );
}

/**
 * The report of a failed terminus health check, when `exception` is what
 * HealthCheckService.check() throws for one: a 503 ServiceUnavailableException
 * whose body is the HealthCheckResult (`{ status, info, error, details }`).
 */
export function failedTerminusHealthCheck(exception: unknown): HealthCheckResult | undefined {
  if (!(exception instanceof HttpException)) return undefined;
  if (exception.getStatus() !== 503) return undefined;
  const body = exception.getResponse();
  return isHealthCheckResult(body) ? body : undefined;
}
