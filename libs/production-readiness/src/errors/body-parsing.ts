import type { IncomingMessage } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { ErrorCode } from './error-code.js';
import { ServiceError } from './service-error.js';

export interface BodyParsingOptions {
  /** The largest body accepted, in bytes (Express) — Fastify's is set on its adapter. */
  bodyLimitBytes: number;
  /** Content types accepted besides JSON, left for the app's own parsers. */
  extraBodyTypes: readonly string[];
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return (
    request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
  );
}

function isAcceptedType(contentType: string | undefined, extra: readonly string[]): boolean {
  if (!contentType) return false;
  if (JSON_TYPE.test(contentType)) return true;
  const essence = contentType.split(';', 1)[0].trim().toLowerCase();
  return extra.includes(essence);
}

interface FastifyParsers {
  removeContentTypeParser(contentType: string | string[]): unknown;
  hasContentTypeParser(contentType: string): boolean;
}

/**
 * JSON bodies only, up to the limit, on either adapter: Express parses JSON
 * and refuses any other body with 415; Fastify drops its text/plain parser
 * so it refuses the same bodies. Errors go through Nest's exception layer,
 * so they answer problem+json. Call before the app is initialized.
 */
export function installBodyParsing(app: INestApplication, options: BodyParsingOptions): void {
  const adapter = app.getHttpAdapter();
  if (adapter.getType() === 'fastify') {
    const fastify = adapter.getInstance() as FastifyParsers;
    if (fastify.hasContentTypeParser('text/plain')) fastify.removeContentTypeParser('text/plain');
    return;
  }
  const express = adapter.getInstance() as { use(handler: unknown): unknown };
  // Nest's own body parser is off (bodyParser: false), so this is the only one.
  (
    app as INestApplication & { useBodyParser(type: string, options: object): unknown }
  ).useBodyParser('json', { limit: options.bodyLimitBytes });
  express.use(
    (
      request: IncomingMessage & { body?: unknown },
      _response: unknown,
      next: (error?: unknown) => void,
    ) => {
      if (
        request.body === undefined &&
        hasBody(request) &&
        !isAcceptedType(request.headers['content-type'], options.extraBodyTypes)
      ) {
        next(
          new ServiceError(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            'The request body has an unsupported Content-Type; send application/json.',
          ),
        );
        return;
      }
      next();
    },
  );
}
