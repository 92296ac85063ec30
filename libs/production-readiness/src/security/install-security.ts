import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Logger, type INestApplication } from '@nestjs/common';
import { ErrorCode, ServiceError } from '../errors/service-error.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { ApiKeyRoutes } from './api-key-routes.js';
import { checksApiKeysInHooks, installFastifyApiKeyHooks } from './fastify-api-key-hook.js';
import { SecurityPolicy } from './security-policy.js';
import {
  applyServerLimits,
  resolveServerLimits,
  type ServerLimitsOptions,
} from './server-limits.js';

type Screening = { kind: 'next' } | { kind: 'refuse'; error: ServiceError } | { kind: 'preflight' };

const NEXT: Screening = { kind: 'next' };
const PREFLIGHT: Screening = { kind: 'preflight' };
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
function screener(
  policy: SecurityPolicy,
): (request: IncomingMessage, response: ServerResponse) => Screening {
  const logger = new Logger('Security');
  const { cors, writeHeaders } = policy;
  return (request, response) => {
    writeHeaders?.(request, response);
    if (!cors) return NEXT;
    // Whether or not this request has an Origin, the answer depends on it:
    // a cache must not give one origin's answer to another (Fetch, "CORS protocol and HTTP caches").
    appendVary(response, 'Origin');
    const decision = cors.decide({
      method: request.method ?? 'GET',
      origin: header(request, 'origin'),
      host: header(request, 'host'),
      requestMethod: header(request, 'access-control-request-method'),
    });
    switch (decision.kind) {
      case 'same-origin':
        return NEXT;
      case 'refused':
        logger.warn({
          message: 'CORS violation detected',
          origin: clip(decision.origin),
          method: request.method,
          path: (request.url ?? '/').split('?', 1)[0],
          isPreflight: header(request, 'access-control-request-method') !== undefined,
          allowedOrigins: cors.allowlist,
        });
        return {
          kind: 'refuse',
          error: new ServiceError(
            ErrorCode.FORBIDDEN,
            'Cross-origin requests from this origin are not allowed.',
            { details: { origin: clip(decision.origin) } },
          ),
        };
      case 'preflight':
        for (const [name, value] of Object.entries(decision.headers))
          response.setHeader(name, value);
        return PREFLIGHT;
      case 'allowed':
        for (const [name, value] of Object.entries(decision.headers))
          response.setHeader(name, value);
        return NEXT;
    }
  };
}

interface FastifyLikeInstance {
  hasRequestDecorator(name: string): boolean;
  addHook(name: 'onRoute', hook: (routeOptions: object) => void): unknown;
  decorateRequest(name: string, value: unknown): unknown;
  addHook(
    name: 'onRequest',
    hook: (
      request: { raw: IncomingMessage },
      reply: { raw: ServerResponse; code(status: number): { send(): unknown } },
      done: (error?: Error) => void,
    ) => void,
  ): unknown;
}

/**
 * Applies the security that must run before routing, right after the
 * correlation context (so refusals carry the id) and before body parsing,
 * on Express or Fastify: the server limits, the security headers on every
 * response, errors included, and the CORS allowlist, which answers
 * preflights for any path with 204 and refuses a disallowed Origin with 403
 * problem+json. Express's `X-Powered-By` is turned off. The API keys are
 * checked once the route (and whether it is public) is known: on Express by
 * ApiKeyGuard; on Fastify, when createServiceApp() made the app, in the
 * onRequest hook of each guarded route, before its body is read. Without
 * SecurityModule only the server limits apply.
 * createServiceApp() calls it.
 */
export function installSecurity(app: INestApplication, limits: ServerLimitsOptions = {}): void {
  applyServerLimits(app.getHttpServer() as Server, resolveServerLimits(limits));
  const adapter = app.getHttpAdapter();
  if (adapter.getType() === 'express') {
    (adapter.getInstance() as { disable(setting: string): unknown }).disable('x-powered-by');
  }
  let policy: SecurityPolicy;
  try {
    policy = app.get(SecurityPolicy, { strict: false });
  } catch {
    return;
  }
  const screen = screener(policy);

  if (adapter.getType() === 'fastify') {
    const fastify = adapter.getInstance() as FastifyLikeInstance;
    // Declared up front, so the guard setting it keeps every request's shape.
    if (!fastify.hasRequestDecorator('apiKeyId')) fastify.decorateRequest('apiKeyId', undefined);
    fastify.addHook('onRequest', (request, reply, done) => {
      const screening = screen(request.raw, reply.raw);
      if (screening.kind === 'refuse') return done(screening.error);
      // Answered here, so done() is not called: no route runs.
      if (screening.kind === 'preflight') return void reply.code(204).send();
      done();
    });
    const routes = app.get(ApiKeyRoutes, { strict: false });
    if (checksApiKeysInHooks(adapter, routes)) {
      installFastifyApiKeyHooks(fastify, app.get(ApiKeyGuard, { strict: false }), routes);
    }
    return;
  }
  app.use((request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => {
    const screening = screen(request, response);
    if (screening.kind === 'refuse') return next(screening.error);
    if (screening.kind === 'preflight') {
      response.statusCode = 204;
      response.end();
      return;
    }
    next();
  });
}
