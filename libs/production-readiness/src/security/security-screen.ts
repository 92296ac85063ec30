import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, Logger, Optional } from '@nestjs/common';
import { ErrorCode, ServiceError } from '../errors/service-error.js';
import {
  ANSWERED_NO_CONTENT,
  HttpRequestPipeline,
  PipelineStage,
  type PreRoutingStep,
} from '../http/http-request-pipeline.js';
import { SecurityPolicy } from './security-policy.js';

const MAX_LOGGED_LENGTH = 256;

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function clip(text: string): string {
  return text.length <= MAX_LOGGED_LENGTH ? text : `${text.slice(0, MAX_LOGGED_LENGTH)}…`;
}

function appendVary(response: ServerResponse, field: string): void {
  const existing = response.getHeader('vary');
  if (existing === undefined) {
    response.setHeader('vary', field);
  } else if (
    !String(existing)
      .toLowerCase()
      .split(/\s*,\s*/)
      .includes(field.toLowerCase())
  ) {
    response.setHeader('vary', `${String(existing)}, ${field}`);
  }
}

/** The headers and the CORS decision for one raw request, before routing. */
function screener(policy: SecurityPolicy): PreRoutingStep {
  const logger = new Logger('Security');
  const { cors, writeHeaders } = policy;
  return (request, response) => {
    writeHeaders?.(request, response);
    if (!cors) return undefined;
    // Whether or not this request has an Origin, the answer depends on it:
    // a cache must not give one origin's answer to another (Fetch, "CORS protocol and HTTP caches").
    appendVary(response, 'Origin');
    const origin = header(request, 'origin');
    // No Origin: not a CORS request (what decide() says), without building its input.
    if (origin === undefined || origin === '') return undefined;
    const decision = cors.decide({
      method: request.method ?? 'GET',
      origin,
      host: header(request, 'host'),
      requestMethod: header(request, 'access-control-request-method'),
    });
    switch (decision.kind) {
      case 'same-origin':
        return undefined;
      case 'refused':
        logger.warn({
          message: 'CORS violation detected',
          origin: clip(decision.origin),
          method: request.method,
          path: (request.url ?? '/').split('?', 1)[0],
          isPreflight: header(request, 'access-control-request-method') !== undefined,
          allowedOrigins: cors.allowlist,
        });
        return new ServiceError(
          ErrorCode.FORBIDDEN,
          'Cross-origin requests from this origin are not allowed.',
          { details: { origin: clip(decision.origin) } },
        );
      case 'preflight':
        for (const [name, value] of Object.entries(decision.headers))
          response.setHeader(name, value);
        return ANSWERED_NO_CONTENT;
      case 'allowed':
        for (const [name, value] of Object.entries(decision.headers))
          response.setHeader(name, value);
        return undefined;
    }
  };
}

/**
 * The security that runs before routing, in the HTTP pipeline right after
 * the request context (so refusals carry the id) and before body parsing,
 * on Express or Fastify: the security headers on every response, errors
 * included, and the CORS allowlist, which answers preflights for any path
 * with 204 and refuses a disallowed Origin with 403 problem+json. Express's
 * `X-Powered-By` is turned off. The API keys are checked once the route is
 * known, by ApiKeyGuard.
 */
@Injectable()
export class SecurityScreen {
  constructor(policy: SecurityPolicy, @Optional() pipeline?: HttpRequestPipeline) {
    if (!pipeline) return;
    pipeline.addStep(PipelineStage.security, screener(policy));
    pipeline.whenInstalled((adapter) => {
      if (adapter.getType() === 'express') {
        adapter.getInstance<{ disable(setting: string): unknown }>().disable('x-powered-by');
      }
    });
  }
}
