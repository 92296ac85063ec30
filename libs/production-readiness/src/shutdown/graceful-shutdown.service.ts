import type { Server, ServerResponse } from 'node:http';
import { Server as NetServer } from 'node:net';
import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type INestApplication,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { SERVICE_CONFIG } from '../config/default-service-config.js';
import { ErrorCode } from '../errors/error-code.js';
import { ServiceError } from '../errors/service-error.js';
import { ReadinessService } from '../health/readiness.service.js';
import { HttpRequestPipeline, PipelineStage } from '../http/http-request-pipeline.js';
import { ServiceLogger } from '../logging/service-logger.js';
import { InFlight } from './in-flight.js';
import { MessageHandlersInFlight } from './message-handlers-in-flight.js';
import {
  DEFAULT_CLEANUP_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_GRACE_MS,
  DEFAULT_KUBERNETES_DRAIN_DELAY_MS,
  DEFAULT_SHUTDOWN_SIGNALS,
  SHUTDOWN_OPTIONS,
  type ShutdownOptions,
} from './shutdown.options.js';

/** How a shutdown ended: 0 after a clean drain, 1 when the budget ran out or a step failed. */
export interface ShutdownOutcome {
  exitCode: 0 | 1;
  reason: string;
  durationMs: number;
}

interface Cleanup {
  name: string;
  run: () => unknown;
  timeoutMs: number;
}

const LIFECYCLE_HOOKS = ['onModuleDestroy', 'beforeApplicationShutdown', 'onApplicationShutdown'];

/**
 * Kubernetes sets KUBERNETES_SERVICE_HOST in every container it starts: there
 * the load balancer takes seconds to stop sending traffic after SIGTERM, so
 * the drain delay is on by default. Anywhere else (a laptop, `nest start
 * --watch`, CI) it is off, so a reload or Ctrl-C exits at once, without
 * anyone having to set ENVIRONMENT.
 */
function runsInKubernetes(): boolean {
  return Boolean(process.env.KUBERNETES_SERVICE_HOST);
}

class BudgetExceeded extends Error {}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * The graceful shutdown, in the order Kubernetes needs it, run once on
 * SIGTERM/SIGINT or shutdown():
 *
 * 1. readiness fails at once (/readyz, /healthz 503; /livez stays 200);
 * 2. the drain delay: keep serving while endpoints and load balancers catch up;
 * 3. stop accepting: close the listener; open connections end with their
 *    next response, which says `Connection: close`;
 * 4. stop the message consumers and let their in-flight handlers finish;
 * 5. wait for in-flight HTTP requests, and for the keep-alive grace: a
 *    connection is closed only once idle that long (keepAliveGraceMs); later
 *    requests get 503 SHUTTING_DOWN;
 * 6. run the registered cleanups (last registered first), then Nest's hooks
 *    (brokers, TypeORM, Redis close after the work that used them); flush logs;
 * 7. exit 0 — or 1 when SHUTDOWN_TIMEOUT_MS (counted after the drain delay)
 *    runs out, naming the phase and what was still pending. A second signal
 *    exits at once.
 *
 * The signals are taken when the app is initialized (onApplicationBootstrap),
 * whatever main.ts does:
 * - without `app.enableShutdownHooks()`, the sequence runs Nest's shutdown
 *   hooks itself, in Nest's order (onModuleDestroy, beforeApplicationShutdown,
 *   the HTTP server's close, onApplicationShutdown), then exits;
 * - with it, Nest's own listener starts `app.close()` on the same signal;
 *   every shutdown hook of the app then waits for steps 1-6 before it runs,
 *   so nothing closes under a request still being served, and the process
 *   exits with the sequence's code once Nest's close is done;
 * - through bootstrapService(), which hands over the app (attach()), the
 *   sequence calls `app.close()`, which also stops the message consumers.
 */
@Injectable()
export class GracefulShutdown
  implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown
{
  private readonly logger = new Logger('Shutdown');
  private readonly signals: NodeJS.Signals[];
  private readonly cleanupTimeoutMs: number;
  private readonly exitProcess: boolean;
  private readonly keepAliveGraceMs: number;
  // From the listener's close: when an idle keep-alive connection may be
  // closed without racing a client that reuses it (performance.now()).
  private keepAliveQuietAt = 0;
  private readonly cleanups: Cleanup[] = [];
  private readonly requests = new InFlight<ServerResponse>();
  private readonly hooks = new InFlight<string>();
  private app?: INestApplication;
  private running?: Promise<ShutdownOutcome>;
  private phase = 'not started';
  private draining = false;
  private refusing = false;
  private signalListener?: (signal: NodeJS.Signals) => void;
  // Resolves when steps 1-6 are done; the app's shutdown hooks wait for it.
  private drained?: Promise<void>;
  private markDrained?: () => void;
  // Set when Nest's own close() (enableShutdownHooks) reached the hooks.
  private isClosedByNest = false;
  private nestClosed?: () => void;
  private readonly nestClosedPromise = new Promise<void>((resolve) => (this.nestClosed = resolve));
  private areHooksWrapped = false;
  // True while the sequence runs the hooks itself (app.close() or in Nest's order).
  private isClosingItself = false;
  // One shared 'close' listener, the response itself as the entry.
  private readonly untrack: (this: ServerResponse) => void;

  /**
   * The drain delay, in ms: SHUTDOWN_DRAIN_DELAY_MS, else 5000 in Kubernetes
   * and 0 elsewhere. The startup report checks it, with timeoutMs, against the
   * grace period (SHUTDOWN_GRACE_PERIOD_MS).
   */
  readonly drainDelayMs: number;
  /** The budget after the drain delay, in ms (SHUTDOWN_TIMEOUT_MS). */
  readonly timeoutMs: number;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: BaseServiceConfig,
    @Inject(SHUTDOWN_OPTIONS) options: ShutdownOptions,
    private readonly modules: ModulesContainer,
    private readonly handlers: MessageHandlersInFlight,
    private readonly adapterHost: HttpAdapterHost,
    @Optional() private readonly readiness?: ReadinessService,
    @Optional() private readonly serviceLogger?: ServiceLogger,
    @Optional() pipeline?: HttpRequestPipeline,
  ) {
    this.signals = options.signals ?? DEFAULT_SHUTDOWN_SIGNALS;
    this.cleanupTimeoutMs = options.cleanupTimeoutMs ?? DEFAULT_CLEANUP_TIMEOUT_MS;
    this.exitProcess = options.exitProcess ?? true;
    this.keepAliveGraceMs = options.keepAliveGraceMs ?? DEFAULT_KEEP_ALIVE_GRACE_MS;
    this.timeoutMs = config.SHUTDOWN_TIMEOUT_MS;
    this.drainDelayMs =
      config.SHUTDOWN_DRAIN_DELAY_MS ??
      (runsInKubernetes() ? DEFAULT_KUBERNETES_DRAIN_DELAY_MS : 0);
    const requests = this.requests;
    this.untrack = function (this: ServerResponse) {
      requests.delete(this);
    };
    pipeline?.addStep(PipelineStage.shutdown, this.trackRequest);
  }

  /** True from the end of the drain delay: responses carry `Connection: close`. */
  get isDraining(): boolean {
    return this.draining;
  }

  /** True once in-flight requests are done: a request arriving now gets 503 SHUTTING_DOWN. */
  get isRefusing(): boolean {
    return this.refusing;
  }

  /** True from the first signal (or shutdown() call). */
  get isShuttingDown(): boolean {
    return this.running !== undefined;
  }

  /** The app is initialized: from now on the signals start the sequence. */
  onApplicationBootstrap(): void {
    this.listenToSignals();
    this.wrapLifecycleHooks();
  }

  /** Nest's close() has begun (enableShutdownHooks, or a close of the user's): wait for the drain. */
  async onModuleDestroy(): Promise<void> {
    if (this.drained) {
      if (!this.isClosingItself) this.isClosedByNest = true;
      await this.drained;
    }
  }

  /** An app closed without this sequence (tests, embedding) lets go of the signals. */
  onApplicationShutdown(): void {
    if (!this.running) this.removeSignalListeners();
    this.nestClosed?.();
  }

  /**
   * Runs `cleanup` during the shutdown, after the in-flight work and before
   * Nest's own hooks; cleanups run last registered first, each within its timeout.
   */
  registerCleanup(name: string, cleanup: () => unknown, timeoutMs = this.cleanupTimeoutMs): void {
    this.cleanups.push({ name, run: cleanup, timeoutMs });
  }

  /**
   * Hands the app over (bootstrapService() does): the sequence then ends
   * with `app.close()`, which also stops its message consumers.
   */
  attach(app: INestApplication): void {
    this.app = app;
    this.listenToSignals();
  }

  /** Runs the shutdown sequence once; later calls get the same outcome. */
  shutdown(reason = 'shutdown()'): Promise<ShutdownOutcome> {
    if (!this.running) {
      this.drained = new Promise<void>((resolve) => (this.markDrained = resolve));
      this.running = this.run(reason);
    }
    return this.running;
  }

  // Counts the request in flight (the response itself is the entry: nothing
  // is allocated for the tracking), and refuses it once the sequence has
  // finished the requests in flight.
  private readonly trackRequest = (_request: unknown, response: ServerResponse) => {
    if (this.refusing) {
      response.setHeader('connection', 'close');
      return new ServiceError(
        ErrorCode.SHUTTING_DOWN,
        'This instance is shutting down; retry the request, another instance will answer.',
      );
    }
    this.requests.add(response);
    response.on('close', this.untrack);
    if (this.draining) response.setHeader('connection', 'close');
    return undefined;
  };

  private listenToSignals(): void {
    if (this.signalListener) return;
    this.signalListener = (signal) => {
      if (this.running) {
        // Nest re-raises the signal once its close() is done (enableShutdownHooks):
        // the sequence is about to exit with its own code.
        if (this.isClosedByNest) return;
        this.logger.error(`${signal} again during the shutdown (${this.phase}): exiting now`);
        this.exit(1);
        return;
      }
      void this.shutdown(signal);
    };
    // First, so the sequence has begun before any other listener (Nest's
    // enableShutdownHooks) gets to the app's hooks.
    for (const signal of this.signals) process.prependListener(signal, this.signalListener);
  }

  private async run(reason: string): Promise<ShutdownOutcome> {
    const startedAt = performance.now();
    this.logger.log({
      message: `Shutting down (${reason})`,
      drainDelayMs: this.drainDelayMs,
      timeoutMs: this.timeoutMs,
    });
    let outcome: ShutdownOutcome;
    try {
      await this.step('readiness', () => this.readiness?.markShuttingDown());
      await this.step('drain delay', () => sleep(this.drainDelayMs));
      outcome = await this.withinBudget(startedAt, reason);
    } catch (error) {
      outcome = this.failed(startedAt, reason, error);
    }
    this.markDrained?.();
    this.detachSignals();
    await this.serviceLogger?.drain();
    if (this.exitProcess) process.exit(outcome.exitCode);
    return outcome;
  }

  private async withinBudget(startedAt: number, reason: string): Promise<ShutdownOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      // Not unref'd: it keeps the process alive until the sequence ends or
      // the budget runs out, even when a hook awaits something that never comes.
      timer = setTimeout(() => reject(new BudgetExceeded()), this.timeoutMs);
    });
    try {
      await Promise.race([this.drainAndClose(reason), deadline]);
      const durationMs = Math.round(performance.now() - startedAt);
      this.logger.log({ message: 'Shutdown complete', durationMs });
      return { exitCode: 0, reason, durationMs };
    } finally {
      clearTimeout(timer);
    }
  }

  private async drainAndClose(reason: string): Promise<void> {
    await this.step('stop accepting', () => this.stopAccepting());
    await this.step('stop consumers', () => this.stopConsumers());
    await this.step('in-flight requests', () => this.finishRequests());
    for (const cleanup of [...this.cleanups].reverse()) {
      await this.step(`cleanup ${cleanup.name}`, () => this.runCleanup(cleanup));
    }
    this.markDrained?.();
    await this.step('lifecycle hooks', () => this.closeApplication(reason));
  }

  private async closeApplication(signal: string): Promise<void> {
    // Let a close() that Nest began on the same signal reach its hooks.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.isClosedByNest) {
      await this.nestClosedPromise;
      await this.hooks.idle();
      return;
    }
    this.isClosingItself = true;
    if (this.app) await this.app.close();
    else await this.runNestShutdownHooks(signal);
  }

  // Nest's close() without the app object: its hooks, module by module in
  // the order Nest runs them (the root first, global modules last), with the
  // HTTP server closed between beforeApplicationShutdown and
  // onApplicationShutdown as Nest's dispose() does.
  private async runNestShutdownHooks(signal: string): Promise<void> {
    const modules = [...this.modules.values()].sort((a, b) => a.distance - b.distance);
    const instancesOf = (module: (typeof modules)[number]) => {
      const instances = new Set<Record<string, unknown>>();
      for (const wrapper of [
        ...module.providers.values(),
        ...module.controllers.values(),
        ...module.injectables.values(),
      ]) {
        const instance = wrapper.instance as Record<string, unknown> | null | undefined;
        if (instance && typeof instance === 'object' && instance !== (this as object))
          instances.add(instance);
      }
      return [...instances];
    };
    const call = async (hook: string) => {
      for (const module of modules) {
        await Promise.all(
          instancesOf(module).map(async (instance) => {
            const method = instance[hook];
            if (typeof method === 'function') await method.call(instance, signal);
          }),
        );
      }
    };
    await call('onModuleDestroy');
    await call('beforeApplicationShutdown');
    await this.adapterHost.httpAdapter?.close();
    await call('onApplicationShutdown');
    this.removeSignalListeners();
  }

  // Makes every provider's and controller's shutdown hooks wait for the drain
  // when a signal started it, and lets an overrun name the hooks still running.
  private wrapLifecycleHooks(): void {
    if (this.areHooksWrapped) return;
    this.areHooksWrapped = true;
    for (const module of this.modules.values()) {
      for (const wrapper of [...module.providers.values(), ...module.controllers.values()]) {
        const instance = wrapper.instance as Record<string, unknown> | null | undefined;
        if (!instance || typeof instance !== 'object' || instance === (this as object)) continue;
        for (const hook of LIFECYCLE_HOOKS) {
          const original = instance[hook];
          if (typeof original !== 'function' || (original as { isWrapped?: boolean }).isWrapped)
            continue;
          const name = `${wrapper.metatype?.name ?? String(wrapper.token)}.${hook}`;
          const wrapped = async (...args: unknown[]) => {
            if (this.drained) {
              if (!this.isClosingItself) this.isClosedByNest = true;
              await this.drained;
            }
            this.hooks.add(name);
            try {
              return await (original as (...a: unknown[]) => unknown).apply(instance, args);
            } finally {
              this.hooks.delete(name);
            }
          };
          (wrapped as { isWrapped?: boolean }).isWrapped = true;
          instance[hook] = wrapped;
        }
      }
    }
  }

  // Closes the listener. Open connections stay: each ends with its next
  // response, which says `Connection: close`. Closing idle keep-alive sockets
  // now would reset requests already on the wire that the loaded server has
  // not read yet (nodejs/node#60617): they get an answer instead.
  private async stopAccepting(): Promise<void> {
    const server = this.server();
    if (server?.listening) {
      // Closing a listening socket resets the connections still in its accept
      // queue, with the requests written on them: close right after a poll,
      // when Node has just accepted what was queued (a loaded process may not
      // have run for a while), and before any response says `Connection: close`,
      // which makes clients connect again.
      await new Promise<void>((resolve) => setImmediate(resolve));
      // net.Server's close only stops listening; http.Server's (Node 19+) also
      // drops the idle keep-alive sockets, the race this avoids.
      NetServer.prototype.close.call(server);
      // Nest's close() closes the listener again; by then it is closed already.
      const close = server.close.bind(server);
      server.close = (callback?: (error?: Error) => void) => {
        if (server.listening) return close(callback);
        if (callback) process.nextTick(callback);
        return server;
      };
    }
    this.draining = true;
    this.keepAliveQuietAt = performance.now() + this.keepAliveGraceMs;
    for (const response of this.requests.values()) {
      if (!response.headersSent) response.setHeader('connection', 'close');
      // Its headers went out keeping the connection alive: the client may
      // reuse it once this response ends, so the grace counts from then.
      else response.once('close', this.extendKeepAliveGrace);
    }
  }

  private readonly extendKeepAliveGrace = () => {
    this.keepAliveQuietAt = Math.max(
      this.keepAliveQuietAt,
      performance.now() + this.keepAliveGraceMs,
    );
  };

  // Waits for the requests in flight (one more at most per open connection)
  // and for the keep-alive grace, then refuses what still comes and closes
  // the sockets left idle. Node's closeIdleConnections() destroys a socket
  // whose next request it has not parsed yet, and a client writes onto an idle
  // pooled socket without warning: until the grace is over, a request on an
  // open connection is served (with `Connection: close`), and the close
  // happens right after a poll, once the bytes that came meanwhile are read.
  private async finishRequests(): Promise<void> {
    for (;;) {
      await this.requests.idle();
      const graceLeftMs = this.keepAliveQuietAt - performance.now();
      if (graceLeftMs > 0 && (await this.openConnections()) > 0) {
        // Connections that carry a request close by themselves: look again soon.
        await sleep(Math.min(graceLeftMs, 50));
        continue;
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.requests.size === 0) break;
    }
    this.refusing = true;
    this.server()?.closeIdleConnections();
  }

  private openConnections(): Promise<number> {
    const server = this.server();
    if (!server) return Promise.resolve(0);
    return new Promise((resolve) =>
      server.getConnections((error, count) => resolve(error ? 0 : count)),
    );
  }

  private server(): Server | undefined {
    return this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
  }

  private async stopConsumers(): Promise<void> {
    const microservices = this.app?.getMicroservices() ?? [];
    // As Nest's own dispose() does: closes each consumer without running the
    // shared lifecycle hooks twice; Nest's later close() finds them closed.
    await Promise.all(
      microservices.map(async (microservice) => {
        const closable = microservice as typeof microservice & {
          setIsTerminated?(value: boolean): void;
        };
        closable.setIsTerminated?.(true);
        await microservice.close();
      }),
    );
    await this.handlers.idle();
  }

  private async runCleanup(cleanup: Cleanup): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(cleanup.run),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`did not finish within ${cleanup.timeoutMs} ms`)),
            cleanup.timeoutMs,
          );
          timer.unref();
        }),
      ]);
    } catch (error) {
      // One failed cleanup must not keep the others from running.
      this.logger.error(`Cleanup ${cleanup.name} failed: ${String(error)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  private async step(phase: string, action: () => unknown): Promise<void> {
    this.phase = phase;
    const startedAt = performance.now();
    await action();
    this.logger.log({
      message: `Shutdown phase done: ${phase}`,
      phase,
      durationMs: Math.round(performance.now() - startedAt),
    });
  }

  private failed(startedAt: number, reason: string, error: unknown): ShutdownOutcome {
    const durationMs = Math.round(performance.now() - startedAt);
    if (error instanceof BudgetExceeded) {
      this.logger.error({
        message: `Shutdown budget of ${this.timeoutMs} ms ran out during "${this.phase}"; exiting with what is still pending`,
        phase: this.phase,
        durationMs,
        pendingRequests: this.requests
          .values()
          .map(({ req }) => `${req.method ?? 'GET'} ${(req.url ?? '/').split('?', 1)[0]}`),
        pendingHandlers: this.handlers.values(),
        pendingHooks: this.hooks.values(),
      });
    } else {
      this.logger.error({
        message: `Shutdown failed during "${this.phase}": ${error instanceof Error ? error.message : String(error)}`,
        phase: this.phase,
        durationMs,
        err: error,
      });
    }
    return { exitCode: 1, reason, durationMs };
  }

  private detachSignals(): void {
    // Exiting, the listeners stay to the end for a second signal.
    if (!this.exitProcess) this.removeSignalListeners();
  }

  private removeSignalListeners(): void {
    const listener = this.signalListener;
    if (!listener) return;
    this.signalListener = undefined;
    for (const signal of this.signals) process.off(signal, listener);
  }

  // The forced exit of a second signal: no waiting, the last lines best effort.
  private exit(code: 0 | 1): never {
    this.serviceLogger?.flush();
    process.exit(code);
  }
}
