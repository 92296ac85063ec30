import { CONNECTION_FAILURE_CODES, isTransientError } from '../resilience/transient-error.js';
import { isServiceError } from './service-error.js';

/** A dependency a request needed that failed it: down, refusing, cut or too slow. */
export interface DependencyFailure {
  /** `database`, `redis`, `broker`, or `unknown` when the error does not say. */
  dependency: string;
  /** The driver's own words, for the log only. */
  cause: string;
}

// node-postgres and pg-pool: the connection refused, cut, timed out, or the
// client-side query timeout (`query_timeout`) passed. They carry no code.
const POSTGRES_CONNECTION_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|timeout expired|Query read timeout|Client has encountered a connection error|Client was closed and is not queryable|Cannot use a pool after calling end)/;
// PostgreSQL SQLSTATEs of an unavailable or overloaded server, besides the
// transient ones: query_canceled (statement_timeout), lock_not_available
// (lock_timeout), too_many_connections, cannot_connect_now, admin/crash shutdown.
const POSTGRES_UNAVAILABLE_STATES = new Set(['57014', '55P03', '53300', '57P01', '57P02', '57P03']);
// TypeORM's own errors for a data source that is not (or no longer) connected.
const TYPEORM_NOT_CONNECTED = new Set([
  'ConnectionIsNotSetError',
  'CannotExecuteNotConnectedError',
  'CannotGetEntityManagerNotConnectedError',
]);
// ioredis without an offline queue, past its command timeout, or disconnected;
// and the replies of a Redis that is loading, busy or failing over.
const REDIS_MESSAGE =
  /^(Stream isn't writeable|Connection is closed|Command timed out|Reached the max retries per request limit|LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY)/;
const REDIS_ERROR_NAMES = new Set(['MaxRetriesPerRequestError']);

interface ErrorFields {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  driverError?: unknown;
  cause?: unknown;
  port?: unknown;
  severity?: unknown;
  routine?: unknown;
}

function fieldsOf(error: unknown): ErrorFields | undefined {
  return typeof error === 'object' && error !== null ? error : undefined;
}

function messageOf(error: unknown): string {
  const message = fieldsOf(error)?.message;
  return typeof message === 'string' ? message : String(error);
}

// A PostgreSQL server error (pg's DatabaseError): a SQLSTATE and the server's routine.
function isPostgresServerError(fields: ErrorFields): boolean {
  return typeof fields.severity === 'string' && typeof fields.code === 'string';
}

function databaseFailureOf(error: unknown): boolean {
  const fields = fieldsOf(error);
  if (!fields) return false;
  if (typeof fields.name === 'string' && TYPEORM_NOT_CONNECTED.has(fields.name)) return true;
  const message = messageOf(error);
  if (POSTGRES_CONNECTION_MESSAGE.test(message)) return true;
  if (isPostgresServerError(fields)) {
    const state = fields.code as string;
    return POSTGRES_UNAVAILABLE_STATES.has(state) || /^08/.test(state) || isTransientError(fields);
  }
  return false;
}

function redisFailureOf(error: unknown): boolean {
  const fields = fieldsOf(error);
  if (!fields) return false;
  if (typeof fields.name === 'string' && REDIS_ERROR_NAMES.has(fields.name)) return true;
  return REDIS_MESSAGE.test(messageOf(error));
}

/**
 * Which dependency an error says failed, or undefined for an error that is
 * not a dependency's failure (a bug: a query's syntax, a constraint, a
 * TypeError). Reads TypeORM's wrapper (`driverError`) and `cause` chains.
 * `dependencyOfPort` names the dependency behind a bare connection error
 * (`connect ECONNREFUSED 10.0.0.5:5432`) by its port.
 */
export function dependencyFailureOf(
  error: unknown,
  dependencyOfPort: (port: number) => string | undefined = () => undefined,
): DependencyFailure | undefined {
  const cause = messageOf(error);
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const fields = fieldsOf(current);
    if (!fields || isServiceError(current)) return undefined;
    if (databaseFailureOf(current)) return { dependency: 'database', cause };
    if (redisFailureOf(current)) return { dependency: 'redis', cause };
    // A socket that was refused, reset or timed out, with no driver's wrapper.
    if (typeof fields.code === 'string' && CONNECTION_FAILURE_CODES.has(fields.code)) {
      const port = typeof fields.port === 'number' ? fields.port : undefined;
      const dependency = (port !== undefined && dependencyOfPort(port)) || 'unknown';
      return { dependency, cause };
    }
    current = fields.driverError ?? fields.cause;
  }
  return undefined;
}

const DEFAULT_PORTS: Record<string, number> = {
  'postgres:': 5432,
  'postgresql:': 5432,
  'mysql:': 3306,
  'mariadb:': 3306,
  'redis:': 6379,
  'rediss:': 6380,
  'nats:': 4222,
  'amqp:': 5672,
  'amqps:': 5671,
};

/**
 * Names dependencies by the ports of their configured URLs (`DATABASE_URL`
 * → database), for connection errors that carry only an address.
 */
export function dependencyPortsOf(
  urls: Record<string, string | undefined>,
): (port: number) => string | undefined {
  const byPort = new Map<number, string>();
  for (const [dependency, value] of Object.entries(urls)) {
    for (const part of (value ?? '').split(',')) {
      const text = part.trim();
      if (!text) continue;
      try {
        const url = new URL(text.includes('://') ? text : `tcp://${text}`);
        const port = Number(url.port) || DEFAULT_PORTS[url.protocol];
        if (port && !byPort.has(port)) byPort.set(port, dependency);
      } catch {
        // Not a URL: nothing to name by it.
      }
    }
  }
  return (port) => byPort.get(port);
}
