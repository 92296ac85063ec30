import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestException, PayloadTooLargeException } from '@nestjs/common';

/**
 * The refusals the HTTP pipeline makes itself, and how it answers the ones
 * no framework error handler can: a body that crosses the limit while
 * body-parser would keep reading it, a URL Fastify's router rejects before
 * any hook runs. ErrorsModule supplies problem+json ones; alone, the
 * pipeline answers with Nest's exceptions and a bare status.
 */
export interface EarlyRefusals {
  /** A body larger than `bodyLimitBytes`, found while it arrives. */
  bodyTooLarge(): Error;
  /** A JSON body nested deeper than `bodyDepthLimit`. */
  bodyTooDeep(depthLimit: number): Error;
  /** A URL whose path is not validly percent-encoded. */
  undecodableUrl(): Error;
  /** Writes the answer to `error` on the raw response (the request context is open). */
  answer(error: Error, request: IncomingMessage, response: ServerResponse): void;
}

export const DEFAULT_EARLY_REFUSALS: EarlyRefusals = {
  bodyTooLarge: () => new PayloadTooLargeException(),
  bodyTooDeep: (depthLimit) =>
    new BadRequestException(`The request body is nested more than ${depthLimit} levels deep.`),
  undecodableUrl: () => new BadRequestException('The request URL is not validly percent-encoded.'),
  answer: (error, _request, response) => {
    if (response.headersSent) return void response.destroy();
    const status = (error as { getStatus?: () => number }).getStatus?.() ?? 400;
    response.statusCode = status;
    response.end();
  },
};

const ANSWERED_EARLY = Symbol.for('nestjs-production-readiness:answeredEarly');

type MarkedRequest = IncomingMessage & { [ANSWERED_EARLY]?: true };

/** Marks a raw request answered by the pipeline itself. */
export function markAnsweredEarly(request: IncomingMessage): void {
  (request as MarkedRequest)[ANSWERED_EARLY] = true;
}

/**
 * Whether the pipeline answered this raw or framework request itself: an
 * error that reaches the exception filter afterwards (body-parser's, once it
 * has given up on the body) is already answered and logged.
 */
export function wasAnsweredEarly(request: object): boolean {
  const raw = (request as { raw?: MarkedRequest }).raw ?? (request as MarkedRequest);
  return raw[ANSWERED_EARLY] === true;
}

/** Whether the request says it has a body (a length other than 0, or chunks). */
export function hasRequestBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return (
    request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
  );
}

/**
 * Marks the answer to a request refused before its body was read as the
 * connection's last: Node would otherwise read and discard the rest of the
 * body to reuse the connection, for as long as the client sends one (an
 * endless chunked body: until requestTimeoutMs).
 */
export function closeAfterUnreadBody(request: IncomingMessage, response: ServerResponse): void {
  if (hasRequestBody(request) && !response.headersSent) response.setHeader('connection', 'close');
}

/** A body framed by chunks, whose size is known only as it arrives. */
export function hasChunkedBody(request: IncomingMessage): boolean {
  return (
    request.headers['content-length'] === undefined &&
    request.headers['transfer-encoding'] !== undefined
  );
}

/** Whether the path of `url` has a `%` that is not a valid escape (`%ZZ`, `%C3%28`). */
export function hasUndecodablePath(url: string | undefined): boolean {
  if (url === undefined || !url.includes('%')) return false;
  const query = url.indexOf('?');
  try {
    decodeURIComponent(query === -1 ? url : url.slice(0, query));
    return false;
  } catch {
    return true;
  }
}
