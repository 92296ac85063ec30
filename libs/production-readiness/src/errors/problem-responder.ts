import { Inject, Injectable, Logger, NotFoundException, Optional } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { correlationIdFrom } from '../context/correlation-id.js';
import { correlationIdOfRequest } from '../http/request-entry.js';
import { RequestContext } from '../context/request-context.js';
import { MetricsRegistry } from '../metrics/metrics-registry.js';
import { activeTraceId, isTracingActive } from '../tracing/tracing-state.js';
import {
  classifyError,
  DEPENDENCY_RETRY_AFTER_SECONDS,
  type ClassifiedError,
} from './classify-error.js';
import { dependencyPortsOf } from './dependency-failure.js';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { SERVICE_CONFIG } from '../config/default-service-config.js';
import { messageSanitizer } from '../health/sanitize-message.js';
import { ErrorCode } from './error-code.js';
import { ERRORS_OPTIONS } from './errors.module-definition.js';
import {
  resolveErrorsOptions,
  type ErrorsOptions,
  type ResolvedErrorsOptions,
} from './errors.options.js';
import { toProblem, type ProblemDetails } from './problem-details.js';
import { RouteTable } from '../http/route-table.js';
import { isServiceError } from './service-error.js';

/** The request facts a problem response needs. */
export interface ProblemRequest {
  method: string;
  /** The URL as received; its query string is dropped. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** The raw or framework request, to find the correlation id the context gave it. */
  request: object;
}

/** A problem response, ready for any adapter to write. */
export interface ProblemResponse {
  problem: ProblemDetails;
  headers: Record<string, string>;
}

// Nest's router answers an unmatched route with NotFoundException(`Cannot GET /x`).
const ROUTE_NOT_FOUND = /^Cannot [A-Z]+ /;

function hasHeader(headers: Record<string, string> | undefined, name: string): boolean {
  return headers !== undefined && Object.keys(headers).some((key) => key.toLowerCase() === name);
}

function isRouteNotFound(error: unknown): boolean {
  return error instanceof NotFoundException && ROUTE_NOT_FOUND.test(error.message);
}

/**
 * Turns any error into a problem+json answer and logs it: client mistakes at
 * warn, the service's own failures at error with the stack. Shared by the
 * exception filter and the adapters' own error hooks (body parsing happens
 * before Nest's filters can see anything).
 */
@Injectable()
export class ProblemResponder {
  private readonly logger = new Logger('Errors');
  private readonly options: ResolvedErrorsOptions;
  // Read once: with tracing off, no problem looks for a span.
  private readonly traceIdOf: () => string | undefined = isTracingActive()
    ? activeTraceId
    : () => undefined;

  private readonly errorsByCode?: Counter<'code'>;
  private readonly unexpectedByType?: Counter<'type'>;
  private readonly dependencyFailures?: Counter<'dependency'>;
  private readonly dependencyOfPort: (port: number) => string | undefined;
  private readonly sanitize: (message: string) => string;

  constructor(
    // Absent when only another concern (SecurityModule) brought this in.
    @Optional() @Inject(ERRORS_OPTIONS) options: ErrorsOptions | undefined,
    private readonly routes: RouteTable,
    @Optional() metrics?: MetricsRegistry,
    @Optional() @Inject(SERVICE_CONFIG) config?: BaseServiceConfig,
  ) {
    this.options = resolveErrorsOptions(options);
    // A bare `connect ECONNREFUSED …:5432` is named by the configured URLs' ports.
    const urls = {
      database: config?.DATABASE_URL,
      redis: config?.REDIS_URL,
      broker: [config?.NATS_URL, config?.RABBITMQ_URL, config?.KAFKA_BOOTSTRAP_SERVERS]
        .filter(Boolean)
        .join(','),
    };
    this.dependencyOfPort = dependencyPortsOf(urls);
    // A driver's message may hold a URL with its password, or the secret hosts.
    this.sanitize = messageSanitizer(Object.values(urls));
    // The standards document's error_count and critical_error counters.
    this.errorsByCode = metrics?.counter({
      name: 'errors_total',
      help: 'Errors answered as problem details, by error code.',
      labelNames: ['code'],
    });
    this.unexpectedByType = metrics?.counter({
      name: 'unexpected_errors_total',
      help: 'Unexpected errors (bugs, unknown failures), by error type.',
      labelNames: ['type'],
    });
    this.dependencyFailures = metrics?.counter({
      name: 'dependency_failures_total',
      help: 'Requests answered 503 because a dependency they needed failed, by dependency.',
      labelNames: ['dependency'],
    });
  }

  private classify(error: unknown): ClassifiedError {
    const classified = classifyError(error, this.dependencyOfPort);
    const dependency = classified.details?.dependency;
    if (typeof dependency === 'string' && classified.code === ErrorCode.DEPENDENCY_UNAVAILABLE) {
      this.dependencyFailures?.inc({ dependency });
      const cause = classified.details?.cause;
      if (typeof cause === 'string') {
        classified.details = { ...classified.details, cause: this.sanitize(cause) };
      }
    }
    // Every 503 says when to come back (RFC 9110 §10.2.3), whoever threw it.
    if (classified.status === 503 && !hasHeader(classified.headers, 'retry-after')) {
      classified.headers = {
        ...classified.headers,
        'retry-after': String(DEPENDENCY_RETRY_AFTER_SECONDS),
      };
    }
    return classified;
  }

  /** The problem response for an HTTP request, with the error logged once. */
  forHttp(error: unknown, request: ProblemRequest): ProblemResponse {
    const path = request.url.split('?', 1)[0] || '/';
    let classified = this.classify(error);
    if (isRouteNotFound(error)) classified = this.routeNotFound(request.method, path);
    const correlationId = this.correlationIdOf(request);
    this.log(classified, error, { method: request.method, path });
    const headers: Record<string, string> = {
      ...classified.headers,
      'x-correlation-id': correlationId,
    };
    const problem = toProblem(classified, {
      instance: path,
      correlationId,
      typeBaseUri: this.options.typeBaseUri,
      traceId: this.traceIdOf(),
    });
    return { problem, headers };
  }

  /** The correlation id of an HTTP request: its context's, else the one it was given or sent. */
  correlationIdOf(request: ProblemRequest): string {
    return (
      RequestContext.correlationId ??
      correlationIdOfRequest(request.request) ??
      correlationIdFrom(request.headers)
    );
  }

  /** The problem object for a message handler's caller, with the error logged once. */
  forRpc(error: unknown, pattern: string): ProblemDetails {
    const classified = this.classify(error);
    const correlationId = RequestContext.correlationId ?? 'none';
    this.log(classified, error, { pattern });
    return toProblem(classified, {
      instance: pattern,
      correlationId,
      typeBaseUri: this.options.typeBaseUri,
      traceId: this.traceIdOf(),
    });
  }

  private routeNotFound(method: string, path: string): ClassifiedError {
    const allowed = this.routes.allowedMethods(path);
    if (allowed.length > 0 && !allowed.includes(method)) {
      return {
        status: 405,
        code: ErrorCode.METHOD_NOT_ALLOWED,
        detail: `${method} is not allowed here; use ${allowed.join(', ')}.`,
        headers: { allow: allowed.join(', ') },
        isExpected: true,
      };
    }
    return {
      status: 404,
      code: ErrorCode.NOT_FOUND,
      detail: 'No resource at this path.',
      isExpected: true,
    };
  }

  // The standards document's split: handle_service_error (expected: warn, with
  // code and details) and handle_unexpected_error (error, with type and stack).
  private log(classified: ClassifiedError, error: unknown, where: Record<string, unknown>): void {
    this.errorsByCode?.inc({ code: classified.code });
    // Shedding logs once per interval with a count (OverloadProtection): a
    // line per refused request would add to the load it sheds.
    if (classified.code === ErrorCode.OVERLOADED) return;
    if (classified.isExpected) {
      this.logger.warn({
        message: 'Request failed',
        code: classified.code,
        status: classified.status,
        detail: classified.detail,
        ...(classified.details && { details: classified.details }),
        ...where,
      });
      return;
    }
    const errorType = error instanceof Error ? error.constructor.name : typeof error;
    if (!isServiceError(error)) this.unexpectedByType?.inc({ type: errorType });
    this.logger.error({
      message: isServiceError(error) ? 'Service error' : 'Unexpected error',
      ...(classified.details && { details: classified.details }),
      code: classified.code,
      status: classified.status,
      errorType,
      err: error instanceof Error ? error : new Error(String(error)),
      ...where,
    });
  }
}
