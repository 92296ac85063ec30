import { ForbiddenException, Injectable, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { HttpRequestPipeline } from '../http/http-request-pipeline.js';
import type {
  FastifyInstanceLike,
  FastifyDone,
  FastifyOnRequestHook,
  FastifyRouteOptions,
} from '../http/http-platform.js';
import { RouteTable } from '../http/route-table.js';
import { isPublicRoute } from './api-key-routes.js';
import { ApiKeyGuard, type GuardedRequest } from './api-key.guard.js';

/**
 * On Fastify, checks API keys in an onRequest hook of each route that needs
 * them, with the same ApiKeyGuard.verify(): before the body is read, so a
 * refused client cannot make the server read a body, and without Nest's
 * guard pipeline. The global guard still runs and sees the key already
 * checked. A route whose controller method the route table cannot name
 * (versioned, under a RouterModule prefix, a plugin's) gets no hook: the
 * guard alone judges it, as on Express.
 */
@Injectable()
export class FastifyApiKeyHooks {
  constructor(
    guard: ApiKeyGuard,
    routes: RouteTable,
    reflector: Reflector,
    @Optional() pipeline?: HttpRequestPipeline,
  ) {
    pipeline?.whenInstalled((adapter) => {
      if (adapter.getType() !== 'fastify') return;
      // Declared up front, so the hook setting it keeps every request's shape.
      const fastify = adapter.getInstance<FastifyInstanceLike>();
      if (!fastify.hasRequestDecorator('apiKeyId')) fastify.decorateRequest('apiKeyId', undefined);
    });
    pipeline?.onFastifyRoute((route: FastifyRouteOptions) => {
      const method = Array.isArray(route.method) ? route.method[0] : route.method;
      const target = routes.routeOf(method.toUpperCase(), route.url);
      if (!target) return;
      const isPublic = isPublicRoute(
        reflector,
        target.handler as () => unknown,
        target.controller as () => unknown,
      );
      const keys = guard.keysForRoute(route.url, isPublic);
      if (!keys || keys.isEmpty) return;
      const checkKey: FastifyOnRequestHook = (request, _reply, done: FastifyDone) => {
        const guarded = request as unknown as GuardedRequest;
        let verdict: boolean | Promise<boolean>;
        try {
          verdict = guard.verify(guarded, keys);
        } catch (error) {
          return done(error as Error);
        }
        if (verdict instanceof Promise) {
          verdict.then((allowed) => done(allowed ? undefined : new ForbiddenException()), done);
          return;
        }
        done(verdict ? undefined : new ForbiddenException());
      };
      // After the pipeline's own onRequest hook (context, screening): a new
      // array, as Fastify copies these options for the route's HEAD twin.
      const existing = route.onRequest;
      route.onRequest = [
        ...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]),
        checkKey,
      ];
    });
  }
}
