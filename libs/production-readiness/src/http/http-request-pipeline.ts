import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger, type OnModuleInit, Optional } from '@nestjs/common';
import { HttpAdapterHost, type AbstractHttpAdapter } from '@nestjs/core';
import { enterRequestContext, RequestContext } from '../context/request-context.js';
import {
  closeAfterUnreadBody,
  DEFAULT_EARLY_REFUSALS,
  hasChunkedBody,
  hasUndecodablePath,
  markAnsweredEarly,
  type EarlyRefusals,
} from './early-refusals.js';
import {
  DEFAULT_BODY_DEPTH_LIMIT,
  DEFAULT_BODY_LIMIT_BYTES,
  HTTP_OPTIONS,
  type HttpOptions,
} from './http.options.js';
import { isNestedDeeperThan } from './json-depth.js';
import {
  platformOf,
  type ExpressAdapterLike,
  type ExpressMiddleware,
  type ExpressNext,
  type FastifyDone,
  type FastifyHookReply,
  type FastifyHookRequest,
  type FastifyInstanceLike,
  type FastifyRouteOptions,
} from './http-platform.js';
import {
  NO_ROUTE,
  requestBeginner,
  type ContextualRequest,
  type FinishedRequest,
  type RouteOf,
} from './request-entry.js';
import { RouteTable } from './route-table.js';
import {
  applyServerLimits,
  resolveServerLimits,
  type ResolvedServerLimits,
} from './server-limits.js';

/** A pre-routing step answered the request itself with 204 and no body (a CORS preflight). */
export const ANSWERED_NO_CONTENT = Symbol('answered 204');

/**
 * What a pre-routing step decides: go on (undefined), refuse with an error
 * (answered problem+json by the exception filter, with the correlation id),
 * or 204 at once.
 */
export type StepVerdict = undefined | Error | typeof ANSWERED_NO_CONTENT;

/**
 * A step that runs on every request before routing and body parsing, inside
 * the request context. Synchronous on purpose: one loop per request, no
 * promise, no middleware layer of its own.
 */
export type PreRoutingStep = (request: IncomingMessage, response: ServerResponse) => StepVerdict;

/**
 * A check run on every request before the framework sees it (Express's
 * router, Fastify's): an Error refuses the request, answered problem+json
 * from the raw response. The cheapest refusal there is, for refusals made
 * in bulk (shedding load). Synchronous, like the steps.
 */
export type FrontCheck = (request: IncomingMessage, response: ServerResponse) => Error | undefined;

/** Where a step runs, lowest first; steps of one stage run in the order they were added. */
export const PipelineStage = {
  /** Hiding the secret request headers from log serializers, before anything can log the request. */
  redaction: 0,
  /** In-flight tracking and the refusal once a shutdown stops taking requests. */
  shutdown: 10,
  /** The front checks (shedding), where the server's request listener could not be wrapped. */
  admission: 15,
  /** Security headers and the CORS decision. */
  security: 20,
  /** Refusing bodies by their headers: their type (415) and declared length (413). */
  body: 30,
} as const;

interface Staged {
  stage: number;
  step: PreRoutingStep;
}

interface ExpressRoutedRequest extends ContextualRequest {
  route?: { path?: string };
  baseUrl?: string;
}

// The route template once routed, read when the response has been sent.
const expressRouteOf: RouteOf<ExpressRoutedRequest> = (request) =>
  request.route?.path === undefined ? undefined : `${request.baseUrl ?? ''}${request.route.path}`;
const fastifyRouteOf: RouteOf<{ routeOptions?: { url?: string } }> = (request) =>
  request.routeOptions?.url;

/**
 * The request path the concerns share, installed from inside Nest rather
 * than by a wrapper around NestFactory: `HttpAdapterHost.init$` fires the
 * moment the adapter is known (in `NestFactory.create()` before any
 * provider exists, so it replays when this one subscribes; in a testing
 * module in `createNestApplication()`), which on both paths is before Nest's
 * `init()` registers its body parsers, the app's middleware and the routes,
 * and before the app's own `app.use()` calls. So the entry is first:
 *
 * - Express: one middleware (correlation id, request context, then every
 *   registered pre-routing step), then the JSON parser with our limit (Nest
 *   skips its own `jsonParser` when one is applied), then the nesting-depth
 *   check of the parsed body, then Nest's urlencoded parser, the app's
 *   middleware, the routes. A chunked body is counted as it arrives and
 *   answered 413 the moment it crosses the limit: body-parser itself reads
 *   an over-long body to its end before it reports the limit, which for an
 *   endless one is never.
 * - Fastify: one `onRequest` hook doing the same, registered before any
 *   route, so it runs first for every route, 404s included; an `onRoute`
 *   hook gives each route the body limit and the route hooks concerns add;
 *   a `preValidation` hook checks the parsed body's depth. Fastify's router
 *   answers a URL it cannot decode before any hook runs, with its own JSON:
 *   such a URL is answered in front of it, from the server's request event.
 *
 * Nest's `init()` order on both: adapter init, body parsers, module
 * middleware (`configure()`), routes, `onModuleInit`, error and not-found
 * handlers, `onApplicationBootstrap`. The server exists from
 * `createNestApplication()`/`NestFactory.create()` on; its limits are set in
 * `onModuleInit`, before `listen()`.
 */
@Injectable()
export class HttpRequestPipeline implements OnModuleInit {
  private readonly logger = new Logger('HttpPipeline');
  readonly bodyLimitBytes: number;
  readonly bodyDepthLimit: number;
  readonly extraBodyTypes: readonly string[];
  private readonly serverLimits: ResolvedServerLimits;
  private readonly rawBody: boolean;
  private staged: Staged[] = [];
  private steps: PreRoutingStep[] = [];
  private frontChecks: FrontCheck[] = [];
  private readonly finishListeners: Array<(request: FinishedRequest) => void> = [];
  private readonly routeHooks: Array<(route: FastifyRouteOptions) => void> = [];
  private readonly installListeners: Array<(adapter: AbstractHttpAdapter) => void> = [];
  private adapter?: AbstractHttpAdapter;
  /** Fastify: its router answers an undecodable URL before any hook, so the front door does. */
  private refusesUndecodableUrls = false;
  private refusals: EarlyRefusals = DEFAULT_EARLY_REFUSALS;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Optional() @Inject(HTTP_OPTIONS) options: HttpOptions = {},
    private readonly routes: RouteTable,
  ) {
    this.bodyLimitBytes = positive(
      'bodyLimitBytes',
      options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    );
    this.bodyDepthLimit = positive(
      'bodyDepthLimit',
      options.bodyDepthLimit ?? DEFAULT_BODY_DEPTH_LIMIT,
    );
    this.extraBodyTypes = (options.extraBodyTypes ?? []).map((type) => type.toLowerCase());
    this.rawBody = options.rawBody ?? false;
    this.serverLimits = resolveServerLimits(options);
    // A ReplaySubject: fires now when the adapter is already known.
    adapterHost.init$.subscribe(() => this.install(adapterHost.httpAdapter));
  }

  /** Adds a step run on every request before routing (see PipelineStage). */
  addStep(stage: number, step: PreRoutingStep): void {
    this.staged = [...this.staged, { stage, step }].sort((a, b) => a.stage - b.stage);
    this.steps = this.staged.map((entry) => entry.step);
  }

  /**
   * Adds a check run on every request before the framework sees it (see
   * FrontCheck). Where the server's request listener cannot be wrapped (an
   * app's own server factory), the checks run as the first pre-routing step.
   */
  addFrontCheck(check: FrontCheck): void {
    this.frontChecks = [...this.frontChecks, check];
  }

  /**
   * Sets the errors the pipeline refuses with, and how it answers them itself
   * (ErrorsModule's problem+json). @internal
   */
  useRefusals(refusals: EarlyRefusals): void {
    this.refusals = refusals;
  }

  /** Called once per request when its response has been sent (access line, metrics). */
  onFinish(listener: (request: FinishedRequest) => void): void {
    this.finishListeners.push(listener);
  }

  /** Fastify only: called with the options of each route as it is registered, before it is built. */
  onFastifyRoute(hook: (route: FastifyRouteOptions) => void): void {
    this.routeHooks.push(hook);
  }

  /** Called with the adapter once it is known (at once when it already is). */
  whenInstalled(listener: (adapter: AbstractHttpAdapter) => void): void {
    if (this.adapter) listener(this.adapter);
    else this.installListeners.push(listener);
  }

  onModuleInit(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) return;
    this.openFrontDoor(server);
    applyServerLimits(server, this.serverLimits);
  }

  private install(adapter: AbstractHttpAdapter | undefined): void {
    if (!adapter || this.adapter) return;
    const platform = platformOf(adapter);
    if (!platform) {
      this.logger.warn(
        `The HTTP adapter "${String(adapter.getType?.())}" is neither Express nor Fastify: the request context, access log, HTTP metrics and pre-routing security are not installed.`,
      );
      return;
    }
    this.adapter = adapter;
    if (platform === 'fastify') this.installOnFastify(adapter.getInstance<FastifyInstanceLike>());
    else this.installOnExpress(adapter as unknown as ExpressAdapterLike);
    for (const listener of this.installListeners.splice(0)) listener(adapter);
  }

  private installOnExpress(adapter: ExpressAdapterLike): void {
    const begin = requestBeginner();
    adapter.use((request: ExpressRoutedRequest, response, next) => {
      const correlationId = begin(
        request,
        response,
        request,
        expressRouteOf,
        this.finishedListener(),
      );
      enterRequestContext(correlationId, this.runSteps, request, response, next);
    });
    // Named `jsonParser` by Express: Nest's init() then leaves its own (100 KiB) out.
    adapter.useBodyParser('json', this.rawBody, { limit: this.bodyLimitBytes });
    adapter.use(this.checkBodyDepth);
  }

  // Right after the JSON parser, before validation or anything else walks the body.
  private readonly checkBodyDepth: ExpressMiddleware = (request, _response, next) => {
    const { body } = request as IncomingMessage & { body?: unknown };
    if (isNestedDeeperThan(body, this.bodyDepthLimit)) {
      return next(this.refusals.bodyTooDeep(this.bodyDepthLimit));
    }
    next();
  };

  /**
   * Counts a chunked body someone has started reading (body-parser, which
   * adds its own listener synchronously; a body nobody reads is left
   * paused) and answers 413 once more than the limit has arrived. The answer
   * says `Connection: close`, so Node closes the connection once it is
   * written instead of reading the rest of the body.
   */
  private watchChunkedBody(request: IncomingMessage, response: ServerResponse): void {
    const limit = this.bodyLimitBytes;
    // The body's chunks arrive outside the request's async context: answer inside it.
    const context = RequestContext.current();
    let received = 0;
    const stopWatching = () => {
      request.off('data', count);
      request.off('end', stopWatching);
    };
    const count = (chunk: Buffer | string) => {
      received += chunk.length;
      if (received <= limit) return;
      stopWatching();
      if (response.headersSent) return;
      markAnsweredEarly(request);
      closeAfterUnreadBody(request, response);
      RequestContext.run({ ...context }, () =>
        this.refusals.answer(this.refusals.bodyTooLarge(), request, response),
      );
    };
    request.on('data', count);
    request.on('end', stopWatching);
  }

  /**
   * The first verdict of the pre-routing steps, in order; undefined when all
   * let the request through. A refusal with an unread body is the
   * connection's last answer.
   */
  private verdictOf(request: IncomingMessage, response: ServerResponse): StepVerdict {
    const steps = this.steps;
    for (let index = 0; index < steps.length; index++) {
      const verdict = steps[index](request, response);
      if (verdict === undefined) continue;
      if (verdict !== ANSWERED_NO_CONTENT) closeAfterUnreadBody(request, response);
      return verdict;
    }
    return undefined;
  }

  private readonly runSteps = (
    request: IncomingMessage,
    response: ServerResponse,
    next: ExpressNext,
  ): void => {
    const verdict = this.verdictOf(request, response);
    if (verdict === ANSWERED_NO_CONTENT) {
      response.statusCode = 204;
      response.end();
      return;
    }
    if (verdict !== undefined) return next(verdict);
    next();
    if (hasChunkedBody(request) && request.readableFlowing === true) {
      this.watchChunkedBody(request, response);
    }
  };

  private installOnFastify(fastify: FastifyInstanceLike): void {
    const begin = requestBeginner();
    this.refusesUndecodableUrls = true;
    fastify.addHook('onRequest', (request, reply, done) => {
      const correlationId = begin(
        request.raw,
        reply.raw,
        request,
        fastifyRouteOf,
        this.finishedListener(),
      );
      enterRequestContext(correlationId, this.screenOnFastify, request, reply, done);
    });
    fastify.addHook('preValidation', (request, _reply, done) => {
      if (isNestedDeeperThan(request.body, this.bodyDepthLimit)) {
        return done(this.refusals.bodyTooDeep(this.bodyDepthLimit));
      }
      done();
    });
    fastify.addHook('onRoute', (route) => {
      route.bodyLimit ??= this.bodyLimitBytes;
      for (const hook of this.routeHooks) hook(route);
    });
  }

  // Inside the request's context: the pre-routing steps, then the route (or not).
  private readonly screenOnFastify = (
    request: FastifyHookRequest,
    reply: FastifyHookReply,
    done: FastifyDone,
  ): void => {
    const verdict = this.verdictOf(request.raw, reply.raw);
    // Answered here, so done() is not called: no route runs.
    if (verdict === ANSWERED_NO_CONTENT) return void reply.code(204).send();
    done(verdict);
  };

  /**
   * Wraps the server's request listener (the framework's) so the front
   * checks run before the framework sees a request, and answers a refused
   * one itself: the entry (correlation id, access line, metrics), the
   * pre-routing steps (which may refuse it first: shutting down, CORS),
   * then the refusal as problem+json. Every other request goes to the
   * framework untouched. Also where Fastify gets a URL its router cannot
   * percent-decode (`/essays/%ZZ`): its router answers those itself, before
   * any hook, unless the instance was created with `frameworkErrors`, which
   * an app's own `new FastifyAdapter()` is not.
   */
  private openFrontDoor(server: Server): void {
    const listeners = server.listeners('request') as RequestListener[];
    const checks = this.frontChecks;
    // Not the server the framework made for itself (a serverFactory of the app's): left alone.
    if (listeners.length !== 1 || (checks.length === 0 && !this.refusesUndecodableUrls)) {
      if (checks.length > 0) this.addStep(PipelineStage.admission, this.frontStep);
      return;
    }
    const [frameworkHandler] = listeners;
    const begin = requestBeginner();
    const refusesUndecodableUrls = this.refusesUndecodableUrls;
    server.removeListener('request', frameworkHandler);
    server.on('request', (request: ContextualRequest, response: ServerResponse) => {
      let refusal: Error | undefined;
      for (let index = 0; index < checks.length && refusal === undefined; index++) {
        refusal = checks[index](request, response);
      }
      if (refusal === undefined && refusesUndecodableUrls && hasUndecodablePath(request.url)) {
        refusal = this.refusals.undecodableUrl();
      }
      if (refusal === undefined) return frameworkHandler(request, response);
      const correlationId = begin(request, response, request, NO_ROUTE, this.finishedListener());
      RequestContext.run({ correlationId }, () => {
        const verdict = this.verdictOf(request, response);
        if (verdict === ANSWERED_NO_CONTENT) {
          response.statusCode = 204;
          return void response.end();
        }
        this.refusals.answer(verdict ?? refusal, request, response);
      });
    });
  }

  // The front checks as a pre-routing step, where the request listener is not ours to wrap.
  private readonly frontStep: PreRoutingStep = (request, response) => {
    const checks = this.frontChecks;
    for (let index = 0; index < checks.length; index++) {
      const refusal = checks[index](request, response);
      if (refusal !== undefined) return refusal;
    }
    return undefined;
  };

  // Undefined when nobody listens: the request then attaches no listener at all.
  private finishedListener(): ((request: FinishedRequest) => void) | undefined {
    return this.finishListeners.length === 0 ? undefined : this.finished;
  }

  private readonly finished = (request: FinishedRequest): void => {
    // Express answers a body it cannot parse before routing: name the route
    // it was meant for, as Fastify (which routes first) does.
    if (request.route === undefined && request.statusCode !== 404 && request.statusCode !== 405) {
      request.route = this.routes.templateFor(request.method, request.path);
    }
    const listeners = this.finishListeners;
    for (let index = 0; index < listeners.length; index++) listeners[index](request);
  };
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`http.${name} must be a positive integer (got ${value}).`);
  }
  return value;
}
