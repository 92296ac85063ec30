import { isServiceError } from '../errors/service-error.js';

/** Node's and undici's codes of a connection that was refused, reset, cut or timed out. */
export const CONNECTION_FAILURE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const TRANSIENT_CODES = new Set([
  ...CONNECTION_FAILURE_CODES,
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  // PostgreSQL SQLSTATEs: serialization failure, deadlock, the server shutting
  // down or starting, too many connections (class 08 is handled below).
  '40001',
  '40P01',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

/** HTTP statuses worth retrying: timeout, too many requests, the gateway answers. */
export const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([408, 429, 502, 503, 504]);

function isTransientOne(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if (isServiceError(error)) return error.details?.transient === true;
  const { code, status, statusCode, name } = error as Record<string, unknown>;
  if (typeof code === 'string') {
    if (TRANSIENT_CODES.has(code)) return true;
    // SQLSTATE class 08: connection exceptions.
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  const httpStatus = typeof status === 'number' ? status : statusCode;
  if (typeof httpStatus === 'number' && TRANSIENT_STATUSES.has(httpStatus)) return true;
  // ioredis: a command past commandTimeout, or the connection gone.
  if (name === 'MaxRetriesPerRequestError') return true;
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && /^(Command timed out|Connection is closed)/.test(message);
}

/**
 * Whether an error is worth retrying: connection refused or reset, timeouts,
 * HTTP 408, 429, 502, 503, 504, PostgreSQL serialization and connection
 * failures, ioredis command timeouts; a ServiceError only when its details
 * say `transient: true`. Follows `cause` chains (undici's fetch wraps).
 */
export function isTransientError(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (isTransientOne(current)) return true;
    if (isServiceError(current)) return false;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** The wait a failure asks for (`Retry-After` given to it), in ms, if any. */
export function retryAfterMsOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const value = isServiceError(error)
    ? error.details?.retryAfterMs
    : (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof value === 'number' && value >= 0 ? value : undefined;
}
