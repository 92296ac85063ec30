import type { IncomingMessage } from 'node:http';
import { Injectable, Optional } from '@nestjs/common';
import { HttpRequestPipeline, PipelineStage } from '../http/http-request-pipeline.js';
import { ErrorCode } from './error-code.js';
import { ServiceError } from './service-error.js';

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

/**
 * Refuses a body by its headers, before a byte of it is read, on either
 * platform: 415 for a type other than JSON (or the app's extraBodyTypes),
 * 413 when its Content-Length is over the limit. A body that is larger than
 * it said, or chunked, is cut by the parser at the same limit (413 too).
 */
@Injectable()
export class BodyRefusals {
  constructor(@Optional() pipeline?: HttpRequestPipeline) {
    if (!pipeline) return;
    const { bodyLimitBytes, extraBodyTypes } = pipeline;
    pipeline.addStep(PipelineStage.body, (request) => {
      if (!hasBody(request)) return undefined;
      if (!isAcceptedType(request.headers['content-type'], extraBodyTypes)) {
        return new ServiceError(
          ErrorCode.UNSUPPORTED_MEDIA_TYPE,
          'The request body has an unsupported Content-Type; send application/json.',
        );
      }
      const length = Number(request.headers['content-length']);
      if (length > bodyLimitBytes) {
        // The body is never read: the connection cannot be reused after the answer.
        return new ServiceError(
          ErrorCode.PAYLOAD_TOO_LARGE,
          'The request body is larger than this service accepts.',
          { headers: { connection: 'close' } },
        );
      }
      return undefined;
    });
  }
}
