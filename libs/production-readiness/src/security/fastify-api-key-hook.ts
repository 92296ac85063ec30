import { ForbiddenException } from '@nestjs/common';
import type { ApiKeyGuard, GuardedRequest } from './api-key.guard.js';
import type { ApiKeyRoutes } from './api-key-routes.js';

// @nestjs/platform-fastify's FASTIFY_ROUTE_CONFIG_METADATA (`@RouteConfig()`),
// written out: that package is an optional dependency.
export const FASTIFY_ROUTE_CONFIG_METADATA = '__fastify_route_config__';
/** The route config entry naming the controller method a Fastify route calls. */
export const ROUTE_METHOD = Symbol.for('nestjs-production-readiness:routeMethod');

// Fastify adapters whose app createServiceApp() makes, and so installs the hook.
const adaptersWithHook = new WeakSet<object>();

/** createServiceApp(): this adapter's app will check API keys in route hooks. */
export function checkApiKeysInFastifyHooks(adapter: object): void {
  adaptersWithHook.add(adapter);
}

/**
 * Whether the app of this adapter checks API keys in Fastify route hooks
 * rather than with the global guard: a Fastify app made by
 * createServiceApp(), with no route method that only the guard can judge.
 */
export function checksApiKeysInHooks(adapter: object | undefined, routes: ApiKeyRoutes): boolean {
  return adapter !== undefined && adaptersWithHook.has(adapter) && !routes.isAmbiguous;
}

type Done = (error?: Error) => void;
type OnRequestHook = (request: GuardedRequest, reply: unknown, done: Done) => void;

interface RouteOptions {
  url?: string;
  config?: Record<PropertyKey, unknown>;
  onRequest?: OnRequestHook | OnRequestHook[];
}

interface FastifyWithRoutes {
  addHook(name: 'onRoute', hook: (routeOptions: RouteOptions) => void): unknown;
}

/**
 * Checks API keys in an onRequest hook of each Fastify route that needs
 * them, in place of the global guard: the same ApiKeyGuard.verify(), without
 * Nest's guard pipeline (three promises per request) and before the body is
 * read, so a refused client cannot make the server read a body. Public
 * routes get no hook. Must run before the routes are registered.
 *
 * Which controller method a route calls is not visible from Fastify: Nest
 * hands it a closure. So each route method's `@RouteConfig()` metadata,
 * which Nest passes to Fastify as the route's config, gets an entry naming
 * the method, and the onRoute hook reads it back. Routes without the entry
 * (a plugin's) were never guarded and are left alone.
 */
export function installFastifyApiKeyHooks(
  fastify: FastifyWithRoutes,
  guard: ApiKeyGuard,
  routes: ApiKeyRoutes,
): void {
  for (const method of routes.methods()) {
    const config = Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, method) as
      Record<PropertyKey, unknown> | undefined;
    if (config?.[ROUTE_METHOD] === method) continue;
    Reflect.defineMetadata(
      FASTIFY_ROUTE_CONFIG_METADATA,
      { ...config, [ROUTE_METHOD]: method },
      method,
    );
  }
  fastify.addHook('onRoute', (routeOptions) => {
    const method = routeOptions.config?.[ROUTE_METHOD];
    if (typeof method !== 'function') return;
    const isPublic = routes.isPublic(method as (...args: never[]) => unknown);
    // A method of another app of this process: guarded, to be safe.
    const keys = guard.keysForRoute(routeOptions.url, isPublic === true);
    if (!keys || keys.isEmpty) return;
    const checkKey: OnRequestHook = (request, _reply, done) => {
      let verdict: boolean | Promise<boolean>;
      try {
        verdict = guard.verify(request, keys);
      } catch (error) {
        return done(error as Error);
      }
      if (verdict instanceof Promise) {
        verdict.then((allowed) => done(allowed ? undefined : new ForbiddenException()), done);
        return;
      }
      done(verdict ? undefined : new ForbiddenException());
    };
    // After the app's own onRequest hooks (the context, the screening): a new
    // array, as Fastify copies these options for the route's HEAD twin.
    const existing = routeOptions.onRequest;
    routeOptions.onRequest = [
      ...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]),
      checkKey,
    ];
  });
}
