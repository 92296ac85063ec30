import type { ServerResponse } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { ErrorCode } from '../errors/error-code.js';
import { ServiceError } from '../errors/service-error.js';
import type { GracefulShutdown } from './graceful-shutdown.service.js';

type Done = (error?: unknown) => void;

interface FastifyHooks {
  addHook(
    name: 'onRequest',
    hook: (request: unknown, reply: { raw: ServerResponse }, done: Done) => void,
  ): unknown;
}

function refusal(response: ServerResponse): ServiceError {
  response.setHeader('connection', 'close');
  return new ServiceError(
    ErrorCode.SHUTTING_DOWN,
    'This instance is shutting down; retry the request, another instance will answer.',
  );
}

/**
 * Once the shutdown has finished the in-flight requests (and is about to
 * close the pools), a request that still arrives on an open connection gets
 * 503 problem+json SHUTTING_DOWN (with `Connection: close`) instead of a
 * reset. Goes right after the request context, so the answer carries the
 * correlation id.
 */
export function installShutdownGate(app: INestApplication, shutdown: GracefulShutdown): void {
  const adapter = app.getHttpAdapter();
  if (adapter.getType() === 'fastify') {
    (adapter.getInstance() as FastifyHooks).addHook('onRequest', (_request, reply, done) =>
      shutdown.isRefusing ? done(refusal(reply.raw)) : done(),
    );
    return;
  }
  app.use((_request: unknown, response: ServerResponse, next: Done) =>
    shutdown.isRefusing ? next(refusal(response)) : next(),
  );
}
