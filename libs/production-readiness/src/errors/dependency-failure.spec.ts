import { describe, expect, it } from 'vitest';
import { classifyError } from './classify-error.js';
import { dependencyFailureOf, dependencyPortsOf } from './dependency-failure.js';
import { ErrorCode, ServiceError } from './service-error.js';

// The shapes the drivers really throw (node-postgres, pg-pool, TypeORM, ioredis, Node's net).
const socketError = (code: string, port: number) =>
  Object.assign(new Error(`connect ${code} 10.0.0.5:${port}`), {
    code,
    errno: -111,
    syscall: 'connect',
    address: '10.0.0.5',
    port,
  });
const postgresError = (code: string, message: string) =>
  Object.assign(new Error(message), { code, severity: 'ERROR', routine: 'x' });
const typeormWrapped = (driverError: Error) =>
  Object.assign(new Error(driverError.message), { name: 'QueryFailedError', driverError });

describe('dependencyFailureOf', () => {
  const ports = dependencyPortsOf({
    database: 'postgres://u:p@db.internal/orders',
    redis: 'redis://cache:6380',
    broker: 'nats://n1:4222,nats://n2:4223',
  });

  it.each([
    ['pg-pool acquire timeout', new Error('timeout exceeded when trying to connect'), 'database'],
    ['a connection cut mid-query', new Error('Connection terminated unexpectedly'), 'database'],
    ['the client-side query timeout', new Error('Query read timeout'), 'database'],
    [
      'statement_timeout, wrapped by TypeORM',
      typeormWrapped(postgresError('57014', 'canceling statement due to statement timeout')),
      'database',
    ],
    ['the server shutting down', postgresError('57P01', 'terminating connection'), 'database'],
    [
      'TypeORM not connected',
      Object.assign(new Error('x'), { name: 'CannotExecuteNotConnectedError' }),
      'database',
    ],
    [
      'ioredis without offline queue',
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      'redis',
    ],
    ['ioredis command timeout', new Error('Command timed out'), 'redis'],
    ['a refused socket on the database port', socketError('ECONNREFUSED', 5432), 'database'],
    ['a reset socket on the Redis port', socketError('ECONNRESET', 6380), 'redis'],
    ['a refused socket on a broker port', socketError('ECONNREFUSED', 4223), 'broker'],
    ['a refused socket nobody configured', socketError('ECONNREFUSED', 9999), 'unknown'],
    [
      'a cause chain',
      new Error('fetch failed', { cause: socketError('ETIMEDOUT', 443) }),
      'unknown',
    ],
  ])('names %s', (_name, error, dependency) => {
    expect(dependencyFailureOf(error, ports)).toMatchObject({ dependency });
  });

  it.each([
    ['a syntax error', typeormWrapped(postgresError('42601', 'syntax error at or near "SELEC"'))],
    ['a unique violation', typeormWrapped(postgresError('23505', 'duplicate key value'))],
    ['an undefined column', postgresError('42703', 'column "heading" does not exist')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'id')")],
    [
      'a Redis WRONGTYPE reply',
      Object.assign(new Error('WRONGTYPE Operation'), { name: 'ReplyError' }),
    ],
    ['a ServiceError', new ServiceError(ErrorCode.CONFLICT, 'taken')],
    [
      'an HTTP status without a socket',
      Object.assign(new Error('x'), { statusCode: 503, code: 'FST_ERR_X' }),
    ],
  ])('leaves %s to be a bug (undefined)', (_name, error) => {
    expect(dependencyFailureOf(error, ports)).toBeUndefined();
  });
});

describe('classifyError with a dependency failure', () => {
  it('answers 503 DEPENDENCY_UNAVAILABLE with Retry-After, the cause kept for the log only', () => {
    const classified = classifyError(new Error('timeout exceeded when trying to connect'));
    expect(classified).toMatchObject({
      status: 503,
      code: 'DEPENDENCY_UNAVAILABLE',
      headers: { 'retry-after': '2' },
      isExpected: true,
      details: { dependency: 'database', cause: 'timeout exceeded when trying to connect' },
    });
    expect(classified.detail).not.toMatch(/timeout|connect/);
  });
});
