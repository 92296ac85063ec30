import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, Optional } from '@nestjs/common';
import { hasRequestBody, type EarlyRefusals } from '../http/early-refusals.js';
import { HttpRequestPipeline, PipelineStage } from '../http/http-request-pipeline.js';
import { ErrorCode } from './error-code.js';
import { PROBLEM_CONTENT_TYPE } from './problem-details.js';
import { ProblemResponder } from './problem-responder.js';
import { ServiceError } from './service-error.js';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

function isAcceptedType(contentType: string | undefined, extra: readonly string[]): boolean {
  if (!contentType) return false;
  if (JSON_TYPE.test(contentType)) return true;
  const essence = contentType.split(';', 1)[0].trim().toLowerCase();
  return extra.includes(essence);
}

// The body is not read to its end: the connection cannot be reused after the answer.
const tooLarge = () =>
  new ServiceError(
    ErrorCode.PAYLOAD_TOO_LARGE,
    'The request body is larger than this service accepts.',
    { headers: { connection: 'close' } },
  );

/**
 * Refuses a body by its headers, before a byte of it is read, on either
 * platform: 415 for a type other than JSON (or the app's extraBodyTypes),
 * 413 when its Content-Length is over the limit. A chunked body is cut at
 * the same limit as it arrives (413, and the connection closed), and a JSON
 * body nested deeper than `bodyDepthLimit` gets 400 MALFORMED_REQUEST right
 * after parsing; the pipeline answers those, and URLs Fastify's router
 * cannot decode, with the problems made here.
 */
@Injectable()
export class BodyRefusals {
  constructor(
    @Optional() pipeline?: HttpRequestPipeline,
    @Optional() responder?: ProblemResponder,
  ) {
    if (!pipeline) return;
    if (responder) pipeline.useRefusals(problemRefusals(responder));
    const { bodyLimitBytes, extraBodyTypes } = pipeline;
    pipeline.addStep(PipelineStage.body, (request) => {
      if (!hasRequestBody(request)) return undefined;
      if (!isAcceptedType(request.headers['content-type'], extraBodyTypes)) {
        return new ServiceError(
          ErrorCode.UNSUPPORTED_MEDIA_TYPE,
          'The request body has an unsupported Content-Type; send application/json.',
        );
      }
      const length = Number(request.headers['content-length']);
      if (length > bodyLimitBytes) return tooLarge();
      return undefined;
    });
  }
}

/** The pipeline's own refusals as problem+json, written as the exception filter writes them. */
function problemRefusals(responder: ProblemResponder): EarlyRefusals {
  return {
    bodyTooLarge: tooLarge,
    bodyTooDeep: (depthLimit) =>
      new ServiceError(
        ErrorCode.MALFORMED_REQUEST,
        `The request body is nested more than ${depthLimit} levels deep.`,
      ),
    undecodableUrl: () =>
      new ServiceError(
        ErrorCode.MALFORMED_REQUEST,
        'The request URL is not validly percent-encoded.',
      ),
    answer: (error: Error, request: IncomingMessage, response: ServerResponse) => {
      const { problem, headers } = responder.forHttp(error, {
        method: request.method ?? 'GET',
        url: request.url ?? '/',
        headers: request.headers,
        request,
      });
      if (response.headersSent) return void response.destroy();
      for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
      response.setHeader('content-type', PROBLEM_CONTENT_TYPE);
      response.statusCode = problem.status;
      response.end(JSON.stringify(problem));
    },
  };
}
