import { ERROR_CODE_STATUS, ErrorCode } from './error-code.js';

/** One field that failed validation. */
export interface FieldError {
  /** The field's path, `title` or `items[0].name`. */
  field: string;
  message: string;
}

export interface ServiceErrorOptions {
  /** Extra facts for logs and, for `errors`, for the client. */
  details?: Record<string, unknown>;
  /** Validation failures, sent to the client as `errors`. */
  errors?: FieldError[];
  /** The HTTP status; defaults to the code's own (500 for an unknown code). */
  status?: number;
  /** The error that caused this one; logged, never sent. */
  cause?: unknown;
  /** Headers to send with the problem response (`Allow`, `Retry-After`). */
  headers?: Record<string, string>;
}

const SERVICE_ERROR = Symbol.for('nestjs-production-readiness:ServiceError');

/**
 * The one error class of the library: a stable code, a message safe to show
 * the client, the HTTP status and the cause. Only the exception filters turn
 * it into HTTP or RPC answers.
 *
 * ```ts
 * throw new ServiceError(ErrorCode.CONFLICT, `Essay ${id} is already processed`);
 * throw new ServiceError('QUOTA_EXCEEDED', 'Monthly quota used up', { status: 402 });
 * ```
 */
export class ServiceError extends Error {
  readonly [SERVICE_ERROR] = true;
  readonly code: string;
  readonly status: number;
  readonly details?: Record<string, unknown>;
  readonly errors?: FieldError[];
  readonly headers?: Record<string, string>;

  constructor(code: ErrorCode | (string & {}), message: string, options: ServiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ServiceError';
    this.code = code;
    this.status = options.status ?? ERROR_CODE_STATUS[code as ErrorCode] ?? 500;
    this.details = options.details;
    this.errors = options.errors;
    this.headers = options.headers;
  }

  /** True for expected failures (4xx); false for the service's own failures (5xx). */
  get isClientError(): boolean {
    return this.status < 500;
  }
}

/** True for a ServiceError, even one from another copy of this package. */
export function isServiceError(error: unknown): error is ServiceError {
  return typeof error === 'object' && error !== null && SERVICE_ERROR in error;
}

export { ErrorCode };
