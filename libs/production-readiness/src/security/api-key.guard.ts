import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  Logger,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { ApplicationConfig, Reflector } from '@nestjs/core';
import type { Counter } from 'prom-client';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { SERVICE_CONFIG } from '../config/default-service-config.js';
import { RequestContext } from '../context/request-context.js';
import { ErrorCode, ServiceError } from '../errors/service-error.js';
import { MetricsRegistry } from '../metrics/metrics-registry.js';
import { isPublicRoute } from './api-key-routes.js';
import { apiKeyIdOf, type ApiKeySet } from './api-key-set.js';
import { AuthFailureStore, type FailureWindow } from './auth-failure-store.js';
import { SecurityPolicy } from './security-policy.js';

/** Why a request was refused, the `reason` label of `auth_failures_total`. */
export type AuthFailureReason = 'missing' | 'invalid';

/** The request as either adapter gives it to a guard. */
export interface GuardedRequest {
  method?: string;
  headers: Record<string, string | string[] | undefined>;
  /** Express and Fastify both: the client address, after their trust-proxy settings. */
  ip?: string;
  socket?: { remoteAddress?: string };
  /** Express: the matched route. */
  route?: { path?: string };
  /** Fastify: the matched route. */
  routeOptions?: { url?: string };
  /** Set by the guard once a key matched: its fingerprint, never the key. */
  apiKeyId?: string;
}

const MAX_LOGGED_LENGTH = 256;

function clip(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value.join(', ') : value;
  return text === undefined || text.length <= MAX_LOGGED_LENGTH
    ? text
    : `${text.slice(0, MAX_LOGGED_LENGTH)}…`;
}

/**
 * The global API-key guard (APP_GUARD). A request to a route that is not
 * public must carry one of API_KEYS in the API_KEY_HEADER header, and
 * nowhere else (never the query string or the body). Refusals answer 401
 * with `WWW-Authenticate`, are logged at warn and counted in
 * `auth_failures_total{reason}`; an address past `maxAuthFailures` in the
 * window is answered 429 with `Retry-After`, key or no key, until the window
 * closes. No keys configured: authentication is off. Message handlers (RPC)
 * are not guarded by it. On Fastify the same checks run first in each
 * guarded route's onRequest hook, before the body is read; the guard then
 * finds the key checked (fastify-api-key-hooks.ts).
 *
 * Override `getTracker()` to count failures per something else than the
 * client address, or `getPresentedKey()` to read the key differently, and
 * name the subclass in `SecurityOptions.apiKeyGuard`.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate, OnModuleInit {
  protected readonly logger = new Logger('Security');
  private readonly failures?: Counter<'reason'>;
  private isAnnounced = false;
  /** The header the key is read from, as Node names it (lower case). */
  private readonly keyHeaderName: string;
  /**
   * Whether each route method is public, by method and then controller (a
   * base controller's method serves several): its decorators are read once,
   * not on every request.
   */
  private readonly isPublicByHandler = new WeakMap<object, WeakMap<object, boolean>>();

  constructor(
    protected readonly policy: SecurityPolicy,
    protected readonly store: AuthFailureStore,
    protected readonly reflector: Reflector,
    @Inject(SERVICE_CONFIG) private readonly config: BaseServiceConfig,
    @Optional() metrics?: MetricsRegistry,
    @Optional() private readonly appConfig?: ApplicationConfig,
  ) {
    this.keyHeaderName = policy.apiKeyHeader.toLowerCase();
    this.failures = metrics?.counter({
      name: 'auth_failures_total',
      help: 'Requests refused for a missing or invalid API key, by reason.',
      labelNames: ['reason'],
    });
  }

  onModuleInit(): void {
    // Once, though Nest calls it for the guard and again for the APP_GUARD
    // factory that hands the same instance out.
    if (this.isAnnounced) return;
    this.isAnnounced = true;
    const { apiKeys, apiKeyHeader } = this.policy;
    if (apiKeys.isEmpty) {
      const message = 'API key authentication is off: API_KEYS is empty, every route is public';
      // An unauthenticated production service is usually a mistake.
      if ((this.config.ENVIRONMENT ?? 'production') === 'production') this.logger.warn(message);
      else this.logger.log(message);
      return;
    }
    this.logger.log({
      message: 'API key authentication is on',
      header: apiKeyHeader,
      keyIds: apiKeys.ids,
      metricsKeyIds: this.policy.metricsApiKeys.ids,
    });
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    // Checked already, by the route's onRequest hook on Fastify.
    if (request.apiKeyId !== undefined) return true;
    const keys = this.keysFor(context, request);
    if (!keys || keys.isEmpty) return true;
    return this.verify(request, keys);
  }

  /**
   * The keys a route takes, given its template and whether it is public by
   * its decorators (isPublicRoute): the metrics keys on the metrics path when
   * they are set, none on a public path or a public route, API_KEYS on the rest.
   */
  keysForRoute(route: string | undefined, isPublic: boolean): ApiKeySet | undefined {
    const { options, metricsApiKeys, apiKeys } = this.policy;
    route = this.withoutGlobalPrefix(route);
    if (route === options.metricsPath && !metricsApiKeys.isEmpty) return metricsApiKeys;
    if (route !== undefined && options.publicPaths.has(route)) return undefined;
    return isPublic ? undefined : apiKeys;
  }

  // The probes and /metrics keep their treatment under `app.setGlobalPrefix()`.
  private withoutGlobalPrefix(route: string | undefined): string | undefined {
    const prefix = this.appConfig?.getGlobalPrefix();
    if (!prefix || route === undefined) return route;
    const normalized = `/${prefix.replace(/^\/+|\/+$/g, '')}`;
    return route.startsWith(`${normalized}/`) ? route.slice(normalized.length) : route;
  }

  /**
   * Checks the key a request carries against `keys`: true, with the key's id
   * on the request and its context; otherwise throws (or rejects with) the
   * 401 or 429 ServiceError. The guard calls it, and so does the route's
   * onRequest hook on Fastify (installSecurity()), which refuses before the
   * body is read.
   */
  verify(request: GuardedRequest, keys: ApiKeySet): boolean | Promise<boolean> {
    // No failure counted anywhere (in memory): nothing to look up.
    if (!this.store.mayHaveFailures()) return this.check(request, keys, undefined, undefined);
    const tracker = this.getTracker(request);
    const peeked = this.store.peek(tracker);
    // In memory the answer is at hand: no promise on the path of every request.
    return peeked instanceof Promise
      ? peeked.then((window) => this.check(request, keys, tracker, window))
      : this.check(request, keys, tracker, peeked);
  }

  private check(
    request: GuardedRequest,
    keys: ApiKeySet,
    knownTracker: string | undefined,
    window: FailureWindow | undefined,
  ): boolean | Promise<boolean> {
    if (window && window.count >= this.policy.options.maxAuthFailures) {
      throw this.tooManyFailures(window);
    }
    const presented = this.getPresentedKey(request);
    // The client address is read only for a refusal, when it was not already.
    if (presented === undefined) {
      return this.refuse('missing', request, knownTracker ?? this.getTracker(request));
    }
    const keyId = keys.match(presented);
    if (keyId === undefined) {
      return this.refuse('invalid', request, knownTracker ?? this.getTracker(request), presented);
    }

    request.apiKeyId = keyId;
    const store = RequestContext.current();
    if (store) store.apiKeyId = keyId;
    return true;
  }

  /** What failures are counted by: the client address as the adapter sees it. */
  protected getTracker(request: GuardedRequest): string {
    return request.ip ?? request.socket?.remoteAddress ?? 'unknown';
  }

  /** The key from the configured header only; empty counts as missing. */
  protected getPresentedKey(request: GuardedRequest): string | undefined {
    const value = request.headers[this.keyHeaderName];
    // A repeated header arrives joined (`a, b`) or as a list: never a key.
    const text = Array.isArray(value) ? value.join(', ') : value;
    return text === undefined || text === '' ? undefined : text;
  }

  /** The keys this route needs, or undefined when it is public. */
  protected keysFor(context: ExecutionContext, request: GuardedRequest): ApiKeySet | undefined {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byController = this.isPublicByHandler.get(handler);
    if (!byController) this.isPublicByHandler.set(handler, (byController = new WeakMap()));
    let isPublic = byController.get(controller);
    if (isPublic === undefined) {
      isPublic = isPublicRoute(this.reflector, handler, controller);
      byController.set(controller, isPublic);
    }
    return this.keysForRoute(this.routeOf(request), isPublic);
  }

  private routeOf(request: GuardedRequest): string | undefined {
    return request.routeOptions?.url ?? request.route?.path;
  }

  private async refuse(
    reason: AuthFailureReason,
    request: GuardedRequest,
    tracker: string,
    presented?: string,
  ): Promise<never> {
    this.failures?.inc({ reason });
    const window = await this.store.hit(tracker, this.policy.options.failureWindowMs);
    this.logger.warn({
      message: 'Unauthorized API access attempt',
      reason,
      ip: tracker,
      userAgent: clip(request.headers['user-agent']) ?? null,
      method: request.method,
      route: this.routeOf(request) ?? null,
      // The fingerprint of what was sent (an old, rotated-out key shows up
      // here by its id); never the value.
      ...(presented !== undefined && { presentedKeyId: apiKeyIdOf(presented) }),
      failuresInWindow: window.count,
    });
    const header = this.policy.apiKeyHeader;
    throw new ServiceError(
      ErrorCode.UNAUTHORIZED,
      reason === 'missing'
        ? `An API key is required: send it in the ${header} header.`
        : `The API key in the ${header} header is not valid.`,
      { headers: { 'www-authenticate': this.policy.challenge } },
    );
  }

  private tooManyFailures(window: FailureWindow): ServiceError {
    const seconds = Math.max(1, Math.ceil(window.resetInMs / 1000));
    return new ServiceError(
      ErrorCode.RATE_LIMITED,
      `Too many failed authentications from this address; retry after ${seconds} seconds.`,
      { headers: { 'retry-after': String(seconds) } },
    );
  }
}
