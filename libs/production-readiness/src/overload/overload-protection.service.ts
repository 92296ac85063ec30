import type { IncomingMessage, ServerResponse } from 'node:http';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { SERVICE_CONFIG } from '../config/default-service-config.js';
import { ErrorCode } from '../errors/error-code.js';
import { ServiceError } from '../errors/service-error.js';
import { DEFAULT_HEALTH_PATHS } from '../health/health.options.js';
import { HttpRequestPipeline } from '../http/http-request-pipeline.js';
import { pathOf } from '../http/request-entry.js';
import { RouteTable } from '../http/route-table.js';
import { MetricsRegistry } from '../metrics/metrics-registry.js';
import { NEVER_SHED_METADATA } from './never-shed.decorator.js';
import {
  OVERLOAD_OPTIONS,
  resolveOverloadOptions,
  type OverloadOptions,
  type ResolvedOverloadOptions,
} from './overload.options.js';

/** A declared body up to this size is read and dropped by Node after a shed, keeping the connection. */
const DISCARDABLE_BODY_BYTES = 64 * 1024;
/** How fast the latency baseline follows a window slower than it (per window): slowly, so sustained overload takes half a minute to become the norm. */
const BASELINE_RISE = 0.005;
/** How fast it follows a faster window: quickly, so the baseline stays near the no-load latency. */
const BASELINE_FALL = 0.5;
/** The most the limit shrinks in one window. */
const MOST_SHRINK = 0.5;
/** Windows without overload before the message handlers resume: one quiet window is not a trend. */
const QUIET_WINDOWS_TO_RESUME = 2;

const STARTED_AT = Symbol('overload: admitted at');
type AdmittedResponse = ServerResponse & { [STARTED_AT]?: number };

/**
 * Sheds load: an adaptive concurrency limit on the HTTP requests in flight,
 * checked first on every request (a pre-routing step), so a request over
 * the limit is answered 503 OVERLOADED before its body is read or any
 * guard, pipe or handler runs for it.
 *
 * Why a concurrency limit, adapted from latency and event-loop delay: a
 * service past its capacity holds more requests at once than it can finish,
 * whatever the bottleneck (the event loop, a connection pool, a serialized
 * writer), and each waits longer. Refusing the excess keeps the rest at
 * near-normal latency. Every `sampleIntervalMs` the limit is recomputed:
 *
 * - the mean latency of the requests finished in the window is compared
 *   with a baseline that follows faster windows quickly and slower ones
 *   slowly (the no-load latency); above `latencyTolerance` times it, the
 *   limit shrinks in proportion (at most by half a window);
 * - the event loop's delay (p99 over the window) above
 *   `maxEventLoopDelayMs` shrinks it too: CPU-bound handlers saturate the
 *   loop before their latency shows it, since requests then wait unread;
 * - otherwise, when the window used at least half the limit, it grows by
 *   its square root, up to `maxLimit`.
 *
 * Never shed: the probes, `/metrics`, `neverShedPaths` (not counted at
 * all), and `@NeverShed()` routes (looked up only when a request would be
 * shed). While overloaded (a request shed in the window, or the loop's
 * delay over its bound), message handlers wait before they start.
 */
@Injectable()
export class OverloadProtection implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Overload');
  private readonly options: ResolvedOverloadOptions;
  readonly isEnabled: boolean;
  private currentLimit: number;
  private admitted = 0;
  private readonly alwaysServed: Set<string>;
  private readonly neverShedRoutes = new Map<string, boolean>();
  private readonly retryAfter: string;

  // The window being sampled.
  private finishedCount = 0;
  private finishedMsTotal = 0;
  private peakInFlight = 0;
  private shedInWindow = 0;
  private baselineMs?: number;
  private eventLoopDelayMs = 0;

  private overloaded = false;
  private quietWindows = 0;
  private lastSampleAt = 0;
  private resumeMessages?: () => void;
  private messagesResumed?: Promise<void>;
  private shedSinceLog = 0;
  private lastLogAt = Number.NEGATIVE_INFINITY;
  private timer?: NodeJS.Timeout;
  private delays?: IntervalHistogram;
  private readonly shedCounter?: { inc(): void };

  constructor(
    @Inject(SERVICE_CONFIG) config: BaseServiceConfig,
    @Optional() @Inject(OVERLOAD_OPTIONS) options: OverloadOptions = {},
    @Optional() pipeline?: HttpRequestPipeline,
    @Optional() private readonly routes?: RouteTable,
    @Optional() metrics?: MetricsRegistry,
  ) {
    this.options = resolveOverloadOptions(options);
    this.isEnabled = this.options.enabled && config.OVERLOAD_PROTECTION_ENABLED !== false;
    this.currentLimit = this.options.initialLimit;
    this.retryAfter = String(this.options.retryAfterSeconds);
    this.alwaysServed = new Set<string>([
      ...(Object.values(DEFAULT_HEALTH_PATHS) as string[]),
      '/metrics',
      ...this.options.neverShedPaths,
    ]);
    if (!this.isEnabled) return;
    pipeline?.addFrontCheck(this.admit);
    if (metrics?.isEnabled) {
      this.shedCounter = metrics.counter({
        name: 'http_requests_shed_total',
        help: 'HTTP requests refused with 503 OVERLOADED because the service was over its concurrency limit.',
      });
      const read = (value: () => number) =>
        function (this: { set(value: number): void }) {
          this.set(value());
        };
      metrics.gauge({
        name: 'overload_concurrency_limit',
        help: 'The adaptive limit of HTTP requests in flight; one more is shed.',
        collect: read(() => this.currentLimit),
      });
      metrics.gauge({
        name: 'overload_requests_in_flight',
        help: 'HTTP requests in flight counted against the concurrency limit.',
        collect: read(() => this.admitted),
      });
      metrics.gauge({
        name: 'message_consumers_paused',
        help: '1 while message handlers wait because the service is overloaded, else 0.',
        collect: read(() => (this.overloaded ? 1 : 0)),
      });
    }
  }

  /** The current concurrency limit. */
  get limit(): number {
    return this.currentLimit;
  }

  /** HTTP requests in flight counted against the limit. */
  get inFlight(): number {
    return this.admitted;
  }

  /** True while the service sheds or its event loop is late: message handlers wait. */
  get isOverloaded(): boolean {
    return this.overloaded;
  }

  /**
   * Undefined when a message handler may start now; else a promise that
   * resolves once a window has passed without overload.
   */
  whenAcceptingMessages(): Promise<void> | undefined {
    if (!this.overloaded) return undefined;
    this.messagesResumed ??= new Promise<void>((resolve) => (this.resumeMessages = resolve));
    return this.messagesResumed;
  }

  onModuleInit(): void {
    if (!this.isEnabled) return;
    this.delays = monitorEventLoopDelay({ resolution: 10 });
    this.delays.enable();
    this.lastSampleAt = performance.now();
    this.timer = setInterval(() => this.sample(), this.options.sampleIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.delays?.disable();
    this.setOverloaded(false);
  }

  private readonly admit = (request: IncomingMessage, response: ServerResponse) => {
    const path = pathOf(request.url);
    if (this.alwaysServed.has(path)) return undefined;
    if (this.admitted >= this.currentLimit && !this.isNeverShedRoute(request.method, path)) {
      return this.shed(request, response);
    }
    this.admitted += 1;
    if (this.admitted > this.peakInFlight) this.peakInFlight = this.admitted;
    (response as AdmittedResponse)[STARTED_AT] = performance.now();
    // A response emits 'close' once: on() spares once()'s wrapper per request.
    response.on('close', this.release);
    return undefined;
  };

  private readonly release = (() => {
    // One function for every response: `this` is the response that closed.
    const protection = this as OverloadProtection;
    return function (this: AdmittedResponse) {
      protection.admitted -= 1;
      protection.finishedCount += 1;
      protection.finishedMsTotal += performance.now() - (this[STARTED_AT] ?? 0);
    };
  })();

  private shed(request: IncomingMessage, response: ServerResponse): ServiceError {
    this.shedInWindow += 1;
    this.shedCounter?.inc();
    const length = Number(request.headers['content-length'] ?? 0);
    if (request.headers['transfer-encoding'] !== undefined || length > DISCARDABLE_BODY_BYTES) {
      response.setHeader('connection', 'close');
    }
    return new ServiceError(
      ErrorCode.OVERLOADED,
      'The service is over its capacity; retry after the time in Retry-After.',
      { headers: { 'retry-after': this.retryAfter } },
    );
  }

  // Only on the way to a shed: the route table is a scan, each template is looked up once.
  private isNeverShedRoute(method: string | undefined, path: string): boolean {
    const routes = this.routes;
    if (!routes) return false;
    const verb = method ?? 'GET';
    const template = routes.templateFor(verb, path);
    if (template === undefined) return false;
    const key = `${verb} ${template}`;
    let neverShed = this.neverShedRoutes.get(key);
    if (neverShed === undefined) {
      const route = routes.routeOf(verb, template);
      neverShed =
        route !== undefined &&
        (Reflect.getMetadata(NEVER_SHED_METADATA, route.handler) === true ||
          Reflect.getMetadata(NEVER_SHED_METADATA, route.controller) === true);
      this.neverShedRoutes.set(key, neverShed);
    }
    return neverShed;
  }

  private sample(): void {
    const { options } = this;
    const delays = this.delays;
    // How late this sample's own timer is counts too: a block that starts
    // right after a sample leaves the histogram of the next one empty.
    const now = performance.now();
    const timerLateMs = now - this.lastSampleAt - options.sampleIntervalMs;
    this.lastSampleAt = now;
    const p99Ms = delays && delays.count > 0 ? delays.percentile(99) / 1e6 : 0;
    this.eventLoopDelayMs = Math.max(p99Ms, timerLateMs);
    delays?.reset();
    let gradient = 1;
    if (this.finishedCount > 0) {
      const meanMs = this.finishedMsTotal / this.finishedCount;
      const baseline = this.baselineMs ?? meanMs;
      this.baselineMs =
        baseline + (meanMs - baseline) * (meanMs < baseline ? BASELINE_FALL : BASELINE_RISE);
      gradient = Math.min(1, (options.latencyTolerance * this.baselineMs) / Math.max(meanMs, 1e-3));
    }
    const isLoopLate = this.eventLoopDelayMs > options.maxEventLoopDelayMs;
    if (isLoopLate) {
      gradient = Math.min(gradient, options.maxEventLoopDelayMs / this.eventLoopDelayMs);
    }
    const limit = this.currentLimit;
    let next = limit;
    if (gradient < 1) next = limit * Math.max(gradient, MOST_SHRINK);
    else if (this.peakInFlight >= limit / 2) next = limit + Math.sqrt(limit);
    this.currentLimit = Math.round(Math.min(options.maxLimit, Math.max(options.minLimit, next)));

    const shed = this.shedInWindow;
    const isOverloadedNow = shed > 0 || isLoopLate;
    this.quietWindows = isOverloadedNow ? 0 : this.quietWindows + 1;
    if (isOverloadedNow) this.setOverloaded(true);
    else if (this.quietWindows >= QUIET_WINDOWS_TO_RESUME) this.setOverloaded(false);
    this.logShedding(shed);
    this.finishedCount = 0;
    this.finishedMsTotal = 0;
    this.peakInFlight = this.admitted;
    this.shedInWindow = 0;
  }

  private setOverloaded(overloaded: boolean): void {
    this.overloaded = overloaded;
    if (overloaded || !this.resumeMessages) return;
    const resume = this.resumeMessages;
    this.resumeMessages = undefined;
    this.messagesResumed = undefined;
    resume();
  }

  // Once per logIntervalMs at most, with the count since the last line.
  private logShedding(shedNow: number): void {
    this.shedSinceLog += shedNow;
    const now = performance.now();
    if (this.shedSinceLog === 0 || now - this.lastLogAt < this.options.logIntervalMs) return;
    this.logger.warn({
      message: 'Shedding load',
      shed: this.shedSinceLog,
      sinceMs: Number.isFinite(this.lastLogAt) ? Math.round(now - this.lastLogAt) : undefined,
      limit: this.currentLimit,
      inFlight: this.admitted,
      eventLoopDelayMs: Math.round(this.eventLoopDelayMs),
    });
    this.shedSinceLog = 0;
    this.lastLogAt = now;
  }
}
