import { STATUS_CODES } from 'node:http';

/**
 * The stable error codes of problem+json responses (`code`). Apps add their
 * own by passing any UPPER_SNAKE string to ServiceError with a status.
 */
export const ErrorCode = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  MALFORMED_REQUEST: 'MALFORMED_REQUEST',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  CONFLICT: 'CONFLICT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  RATE_LIMITED: 'RATE_LIMITED',
  DEPENDENCY_UNAVAILABLE: 'DEPENDENCY_UNAVAILABLE',
  TIMEOUT: 'TIMEOUT',
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  OVERLOADED: 'OVERLOADED',
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The HTTP status each built-in code answers with. */
export const ERROR_CODE_STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  MALFORMED_REQUEST: 400,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  DEPENDENCY_UNAVAILABLE: 503,
  TIMEOUT: 504,
  SHUTTING_DOWN: 503,
  OVERLOADED: 503,
  INTERNAL: 500,
};

// Node's reason phrase as a code: 418 "I'm a Teapot" → IM_A_TEAPOT.
function codeOfReasonPhrase(status: number): string {
  const phrase = STATUS_CODES[status];
  if (phrase === undefined) return `HTTP_${status}`;
  return phrase
    .replace(/'/g, '')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

/**
 * The code for an HTTP status that came without one (an HttpException, a
 * parser error): the library's code for it, or else one made from the
 * status's reason phrase (`IM_A_TEAPOT`), never a code of another status.
 */
export function errorCodeForStatus(status: number): ErrorCode | (string & {}) {
  switch (status) {
    case 400:
      return ErrorCode.MALFORMED_REQUEST;
    case 401:
      return ErrorCode.UNAUTHORIZED;
    case 403:
      return ErrorCode.FORBIDDEN;
    case 404:
      return ErrorCode.NOT_FOUND;
    case 405:
      return ErrorCode.METHOD_NOT_ALLOWED;
    case 409:
      return ErrorCode.CONFLICT;
    case 413:
      return ErrorCode.PAYLOAD_TOO_LARGE;
    case 415:
      return ErrorCode.UNSUPPORTED_MEDIA_TYPE;
    case 422:
      return ErrorCode.VALIDATION_FAILED;
    case 429:
      return ErrorCode.RATE_LIMITED;
    case 500:
      return ErrorCode.INTERNAL;
    case 502:
    case 503:
      return ErrorCode.DEPENDENCY_UNAVAILABLE;
    case 504:
    case 408:
      return ErrorCode.TIMEOUT;
    default:
      return codeOfReasonPhrase(status);
  }
}
