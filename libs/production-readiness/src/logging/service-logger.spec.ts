import { describe, expect, it } from 'vitest';
import type { BaseServiceConfig } from '../config/base-service.config.js';
import type { FinishedRequest } from '../http/request-entry.js';
import { RequestContext } from '../context/request-context.js';
import { ServiceLogger } from './service-logger.js';

const config = {
  SERVICE_NAME: 'essays',
  SERVICE_VERSION: '1.2.3',
  ENVIRONMENT: 'test',
  LOG_LEVEL: 'INFO',
  API_KEY_HEADER: 'x-api-key',
} as BaseServiceConfig;

/** A destination keeping what it is given; `withMetadata` makes pino write every line itself. */
function capture(withMetadata: boolean) {
  const lines: string[] = [];
  const destination = {
    write: (line: string) => void lines.push(line),
    ...(withMetadata && { [Symbol.for('pino.metadata')]: true }),
  };
  return { lines, logger: new ServiceLogger(config, { destination }) };
}

const requests: FinishedRequest[] = [
  {
    method: 'GET',
    route: '/essays/:id',
    path: '/essays/42',
    statusCode: 200,
    durationMs: 1.23456,
    correlationId: 'abc-123',
  },
  {
    method: 'POST',
    route: undefined,
    path: '/what"ever\\/é✓',
    statusCode: 404,
    durationMs: 0.001,
    correlationId: 'f00d',
  },
  {
    method: 'DELETE',
    route: '/essays/:id',
    path: '/essays/1',
    statusCode: 503,
    durationMs: 1500,
    correlationId: 'c-503',
  },
];

describe('ServiceLogger access line', () => {
  it("writes the same bytes as pino's serialization, but the time", () => {
    const direct = capture(false);
    const throughPino = capture(true);
    for (const request of requests) {
      // Inside the request's context, as on both adapters, with a key id set by the guard.
      RequestContext.run({ correlationId: request.correlationId, apiKeyId: 'k1d' }, () => {
        direct.logger.logRequest(request);
        throughPino.logger.logRequest(request);
      });
    }
    const withoutTime = (line: string) => line.replace(/"time":"[^"]+"/, '"time":"-"');
    expect(direct.lines).toHaveLength(3);
    expect(direct.lines.map(withoutTime)).toEqual(throughPino.lines.map(withoutTime));
    const [ok, notFound, failed] = direct.lines.map((line) => JSON.parse(line) as object);
    expect(Object.keys(ok)).toEqual([
      'level',
      'time',
      'service',
      'version',
      'environment',
      'correlationId',
      'method',
      'route',
      'path',
      'status',
      'durationMs',
      'apiKeyId',
      'msg',
    ]);
    expect(ok).toMatchObject({ level: 'info', durationMs: 1.23, apiKeyId: 'k1d' });
    expect(notFound).toMatchObject({ level: 'warn', route: null, path: '/what"ever\\/é✓' });
    expect(failed).toMatchObject({ level: 'error', status: 503 });
  });

  it("leaves out another request's key id and the key id of an unauthenticated request", () => {
    const { lines, logger } = capture(false);
    RequestContext.run({ correlationId: 'other', apiKeyId: 'k1d' }, () =>
      logger.logRequest(requests[0]),
    );
    logger.logRequest(requests[0]);
    expect(lines.map((line) => JSON.parse(line) as object)).not.toContainEqual(
      expect.objectContaining({ apiKeyId: expect.anything() as unknown }),
    );
  });
});
