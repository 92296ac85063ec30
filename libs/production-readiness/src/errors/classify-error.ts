import { HttpException } from '@nestjs/common';
import { ErrorCode, errorCodeForStatus } from './error-code.js';
import { fieldErrorsOf, problemExtensionsOf } from './problem-extensions.js';
import { isServiceError, type FieldError } from './service-error.js';
import { dependencyFailureOf } from './dependency-failure.js';

/** What the filters need to answer and log an error, whatever threw it. */
export interface ClassifiedError {
  status: number;
  code: string;
  /** Safe to show the client. */
  detail: string;
  errors?: FieldError[];
  /** RFC 9457 extension members, JSON-safe: what an app's HttpException said besides its message. */
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
  /** A client's mistake or a handled failure (warn), not a bug (error with stack). */
  isExpected: boolean;
  /** Facts for the log line only. */
  details?: Record<string, unknown>;
}

export const UNEXPECTED_DETAIL =
  'An unexpected error occurred. Quote the correlation id when reporting it.';

// Errors of Express's body-parser, by their `type` (body-parser README, "Errors").
const BODY_PARSER_ERRORS: Record<string, { status: number; code: ErrorCode; detail: string }> = {
  'entity.parse.failed': {
    status: 400,
    code: ErrorCode.MALFORMED_REQUEST,
    detail: 'The request body is not valid JSON.',
  },
  'entity.verify.failed': {
    status: 400,
    code: ErrorCode.MALFORMED_REQUEST,
    detail: 'The request body could not be verified.',
  },
  'request.aborted': {
    status: 400,
    code: ErrorCode.MALFORMED_REQUEST,
    detail: 'The request was aborted before its body arrived.',
  },
  'request.size.invalid': {
    status: 400,
    code: ErrorCode.MALFORMED_REQUEST,
    detail: 'The request body does not match its Content-Length.',
  },
  'entity.too.large': {
    status: 413,
    code: ErrorCode.PAYLOAD_TOO_LARGE,
    detail: 'The request body is larger than this service accepts.',
  },
  'charset.unsupported': {
    status: 415,
    code: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    detail: 'The request body uses an unsupported charset.',
  },
  'encoding.unsupported': {
    status: 415,
    code: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    detail: 'The request body uses an unsupported Content-Encoding.',
  },
};

// Fastify's own client errors, by their `code` (fastify docs, "Errors").
const FASTIFY_ERRORS: Record<string, { status: number; code: ErrorCode; detail: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: BODY_PARSER_ERRORS['entity.parse.failed'],
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: ErrorCode.MALFORMED_REQUEST,
    detail: 'The request body is empty although its Content-Type says JSON.',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: BODY_PARSER_ERRORS['request.size.invalid'],
  FST_ERR_CTP_BODY_TOO_LARGE: BODY_PARSER_ERRORS['entity.too.large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    detail: 'The request body has an unsupported Content-Type; send application/json.',
  },
  FST_ERR_CTP_INVALID_TYPE: {
    status: 400,
    code: ErrorCode.MALFORMED_REQUEST,
    detail: 'The Content-Type header is malformed.',
  },
};

function knownClientError(error: unknown): ClassifiedError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { type, code } = error as { type?: unknown; code?: unknown };
  const known =
    (typeof type === 'string' && BODY_PARSER_ERRORS[type]) ||
    (typeof code === 'string' && FASTIFY_ERRORS[code]);
  return known ? { ...known, isExpected: true } : undefined;
}

// A code an app may give its problems: an identifier that also reads well in
// the problem's `type` URI (`E_OUT_OF_STOCK` → `…:e-out-of-stock`).
const APP_CODE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

// The body HttpException.createBody() makes from a message: `statusCode`
// repeats the status, `error` the title, `errorCode` the code.
const NEST_BODY_MEMBERS = new Set(['statusCode', 'message', 'error', 'errorCode']);
// What any body says that the problem says already: `message` is the detail.
const REPEATED_MEMBERS = new Set(['statusCode', 'message']);

function isNestBody(body: Record<string, unknown>): boolean {
  return 'statusCode' in body && Object.keys(body).every((key) => NEST_BODY_MEMBERS.has(key));
}

// The exception's own code: `code` in its body, or Nest's `errorCode` option.
function appCodeOf(exception: HttpException, body: Record<string, unknown> | undefined) {
  const { errorCode } = exception as { errorCode?: unknown };
  return [body?.code, errorCode].find(
    (code): code is string => typeof code === 'string' && APP_CODE.test(code),
  );
}

function fromHttpException(exception: HttpException): ClassifiedError {
  // The adapters wrap body-parser's and Fastify's errors in an HttpException
  // whose message comes from the parser; answer with our own words instead.
  const fromParser = knownClientError(exception.cause);
  if (fromParser) return fromParser;
  const status = exception.getStatus();
  const response = exception.getResponse();
  const body =
    typeof response === 'object' && response !== null
      ? (response as Record<string, unknown>)
      : undefined;
  const message = typeof response === 'string' ? response : body?.message;
  const appCode = appCodeOf(exception, body);
  if (Array.isArray(message)) {
    // A plain ValidationPipe's list of messages; each starts with the field's name.
    const errors = message.map((text) => ({
      field: String(text).split(' ')[0],
      message: String(text),
    }));
    return {
      status,
      code: appCode ?? (status === 400 ? ErrorCode.VALIDATION_FAILED : errorCodeForStatus(status)),
      detail: `The request has ${errors.length} invalid field${errors.length === 1 ? '' : 's'}.`,
      errors,
      isExpected: status < 500,
    };
  }
  const classified: ClassifiedError = {
    status,
    code: appCode ?? errorCodeForStatus(status),
    // HttpException messages are written for clients; a 5xx one may not be.
    detail: status < 500 && typeof message === 'string' ? message : UNEXPECTED_DETAIL,
    isExpected: status < 500,
  };
  // The body's other fields, like its message, are for clients only below 500.
  if (body && status < 500 && !isNestBody(body)) {
    const errors = fieldErrorsOf(body);
    if (errors) classified.errors = errors;
    const extensions = problemExtensionsOf(body, REPEATED_MEMBERS);
    if (extensions) classified.extensions = extensions;
  }
  return classified;
}

/** How long a client is asked to wait after a dependency failed it, in seconds. */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 2;

/**
 * Maps anything thrown into a status, a stable code and a detail that is
 * safe for the client: ServiceError, Nest's HttpException, body-parser's and
 * Fastify's client errors, a dependency's failure (503 with Retry-After,
 * dependency-failure.ts); everything else is an unexpected 500.
 * `dependencyOfPort` names the dependency behind a bare connection error.
 */
export function classifyError(
  error: unknown,
  dependencyOfPort?: (port: number) => string | undefined,
): ClassifiedError {
  if (isServiceError(error)) {
    return {
      status: error.status,
      code: error.code,
      detail:
        error.status < 500 || error.code !== ErrorCode.INTERNAL ? error.message : UNEXPECTED_DETAIL,
      errors: error.errors,
      headers: error.headers,
      isExpected: error.status < 500,
      details: error.details,
    };
  }
  if (error instanceof HttpException) return fromHttpException(error);
  const known = knownClientError(error);
  if (known) return known;
  if (typeof error === 'object' && error !== null) {
    const { code } = error as { code?: unknown };
    const status = (error as { statusCode?: unknown }).statusCode;
    if (
      typeof code === 'string' &&
      code.startsWith('FST_') &&
      typeof status === 'number' &&
      status < 500
    ) {
      return {
        status,
        code: errorCodeForStatus(status),
        detail: 'The request could not be read.',
        isExpected: true,
      };
    }
  }
  const failure = dependencyFailureOf(error, dependencyOfPort);
  if (failure) {
    return {
      status: 503,
      code: ErrorCode.DEPENDENCY_UNAVAILABLE,
      detail: 'A service this request needs is unavailable; retry later.',
      headers: { 'retry-after': String(DEPENDENCY_RETRY_AFTER_SECONDS) },
      // A handled failure, not a bug: logged at warn with its cause, no stack.
      isExpected: true,
      details: { dependency: failure.dependency, cause: failure.cause },
    };
  }
  return { status: 500, code: ErrorCode.INTERNAL, detail: UNEXPECTED_DETAIL, isExpected: false };
}
