import type { Server, ServerResponse } from 'node:http';
import { Server as NetServer } from 'node:net';
import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type INestApplication,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { ReadinessService } from '../health/readiness.service.js';
import { ServiceLogger } from '../logging/service-logger.js';
import { InFlight } from './in-flight.js';
import { MessageHandlersInFlight } from './message-handlers-in-flight.js';
import {
  DEFAULT_CLEANUP_TIMEOUT_MS,
  DEFAULT_PRODUCTION_DRAIN_DELAY_MS,
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

const DEVELOPMENT_ENVIRONMENTS = new Set(['development', 'dev', 'local', 'test']);

class BudgetExceeded extends Error {}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * The graceful shutdown, in the order Kubernetes needs it, run once on
 * SIGTERM/SIGINT or shutdown():
 *
 * 1. readiness fails at once (/readyz, /healthz 503; /livez stays 200);
 * 2. the drain delay: keep serving while endpoints and load balancers catch up;
 * 3. stop accepting: close the listener and idle keep-alive sockets; later
 *    responses carry `Connection: close`, later requests get 503 SHUTTING_DOWN;
 * 4. stop the message consumers and let their in-flight handlers finish;
 * 5. wait for in-flight HTTP requests;
 * 6. run the registered cleanups (last registered first), then Nest's hooks
 *    (brokers, TypeORM, Redis close after the work that used them); flush logs;
 * 7. exit 0 — or 1 when SHUTDOWN_TIMEOUT_MS (counted after the drain delay)
 *    runs out, naming the phase and what was still pending. A second signal
 *    exits at once.
 *
 * Replaces Nest's enableShutdownHooks, which closes the server and runs the
 * hooks but flips readiness late, drains nothing and has no deadline.
 */
@Injectable()
export class GracefulShutdown implements OnApplicationShutdown {
  private readonly logger = new Logger('Shutdown');
  private readonly signals: NodeJS.Signals[];
  private readonly cleanupTimeoutMs: number;
  private readonly exitProcess: boolean;
  private readonly cleanups: Cleanup[] = [];
  private readonly requests = new InFlight<ServerResponse>();
  private readonly hooks = new InFlight<string>();
  private app?: INestApplication;
  private running?: Promise<ShutdownOutcome>;
  private phase = 'not started';
  private draining = false;
  private refusing = false;
  private signalListener?: (signal: NodeJS.Signals) => void;

  /**
   * The drain delay, in ms: SHUTDOWN_DRAIN_DELAY_MS, else 0 in development and
   * 5000 elsewhere. The startup report checks it, with timeoutMs, against the
   * grace period (SHUTDOWN_GRACE_PERIOD_MS).
   */
  readonly drainDelayMs: number;
  /** The budget after the drain delay, in ms (SHUTDOWN_TIMEOUT_MS). */
  readonly timeoutMs: number;

  constructor(
    private readonly config: BaseServiceConfig,
    @Inject(SHUTDOWN_OPTIONS) options: ShutdownOptions,
    private readonly modules: ModulesContainer,
    private readonly handlers: MessageHandlersInFlight,
    @Optional() private readonly readiness?: ReadinessService,
    @Optional() private readonly serviceLogger?: ServiceLogger,
  ) {
    this.signals = options.signals ?? DEFAULT_SHUTDOWN_SIGNALS;
    this.cleanupTimeoutMs = options.cleanupTimeoutMs ?? DEFAULT_CLEANUP_TIMEOUT_MS;
    this.exitProcess = options.exitProcess ?? true;
    this.timeoutMs = config.SHUTDOWN_TIMEOUT_MS;
    this.drainDelayMs =
      config.SHUTDOWN_DRAIN_DELAY_MS ??
      (DEVELOPMENT_ENVIRONMENTS.has(config.ENVIRONMENT.toLowerCase())
        ? 0
        : DEFAULT_PRODUCTION_DRAIN_DELAY_MS);
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

  /** An app closed without this sequence (tests, embedding) lets go of the signals. */
  onApplicationShutdown(): void {
    if (!this.running) this.removeSignalListeners();
  }

  /**
   * Runs `cleanup` during the shutdown, after the in-flight work and before
   * Nest's own hooks; cleanups run last registered first, each within its timeout.
   */
  registerCleanup(name: string, cleanup: () => unknown, timeoutMs = this.cleanupTimeoutMs): void {
    this.cleanups.push({ name, run: cleanup, timeoutMs });
  }

  /**
   * Takes over the app's shutdown (createServiceApp() calls it): the signal
   * handlers, and the in-flight tracking of its HTTP server.
   */
  attach(app: INestApplication): void {
    this.app = app;
    const server = app.getHttpServer() as Server;
    // One shared listener, the response itself as the entry: nothing is
    // allocated per request for the tracking.
    const requests = this.requests;
    function untrack(this: ServerResponse) {
      requests.delete(this);
    }
    server.on('request', (_request, response: ServerResponse) => {
      requests.add(response);
      // A response closes once: `on` spares the wrapper `once` allocates.
      response.on('close', untrack);
      if (this.draining && !response.headersSent) response.setHeader('connection', 'close');
    });
    // Nest's close() closes the listener again; by then it is closed already.
    const close = server.close.bind(server);
    server.close = (callback?: (error?: Error) => void) => {
      if (server.listening) return close(callback);
      if (callback) process.nextTick(callback);
      return server;
    };

    this.signalListener = (signal) => {
      if (this.running) {
        this.logger.error(`${signal} again during the shutdown (${this.phase}): exiting now`);
        this.exit(1);
        return;
      }
      void this.shutdown(signal);
    };
    for (const signal of this.signals) process.on(signal, this.signalListener);
  }

  /** Runs the shutdown sequence once; later calls get the same outcome. */
  shutdown(reason = 'shutdown()'): Promise<ShutdownOutcome> {
    this.running ??= this.run(reason);
    return this.running;
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
      await Promise.race([this.drainAndClose(), deadline]);
      const durationMs = Math.round(performance.now() - startedAt);
      this.logger.log({ message: 'Shutdown complete', durationMs });
      return { exitCode: 0, reason, durationMs };
    } finally {
      clearTimeout(timer);
    }
  }

  private async drainAndClose(): Promise<void> {
    await this.step('stop accepting', () => this.stopAccepting());
    await this.step('stop consumers', () => this.stopConsumers());
    await this.step('in-flight requests', () => this.finishRequests());
    for (const cleanup of [...this.cleanups].reverse()) {
      await this.step(`cleanup ${cleanup.name}`, () => this.runCleanup(cleanup));
    }
    this.trackLifecycleHooks();
    await this.step('lifecycle hooks', () => this.app?.close());
  }

  // Wraps every provider's and controller's shutdown hooks so that an
  // overrun can name the hooks still running.
  private trackLifecycleHooks(): void {
    for (const module of this.modules.values()) {
      for (const wrapper of [...module.providers.values(), ...module.controllers.values()]) {
        const instance = wrapper.instance as Record<string, unknown> | null | undefined;
        if (!instance || typeof instance !== 'object') continue;
        for (const hook of LIFECYCLE_HOOKS) {
          const original = instance[hook];
          if (typeof original !== 'function') continue;
          const name = `${wrapper.metatype?.name ?? String(wrapper.token)}.${hook}`;
          instance[hook] = async (...args: unknown[]) => {
            this.hooks.add(name);
            try {
              return await (original as (...a: unknown[]) => unknown).apply(instance, args);
            } finally {
              this.hooks.delete(name);
            }
          };
        }
      }
    }
  }

  // Closes the listener. Open connections stay: each ends with its next
  // response, which says `Connection: close`. Closing idle keep-alive sockets
  // now would reset requests already on the wire that the loaded server has
  // not read yet (nodejs/node#60617): they get an answer instead.
  private stopAccepting(): void {
    this.draining = true;
    const server = this.app?.getHttpServer() as Server | undefined;
    if (!server) return;
    for (const response of this.requests.values()) {
      if (!response.headersSent) response.setHeader('connection', 'close');
    }
    // net.Server's close only stops listening; http.Server's (Node 19+) also
    // drops the idle keep-alive sockets, the race this avoids.
    if (server.listening) NetServer.prototype.close.call(server);
  }

  // Waits for the requests in flight (one more at most per open connection),
  // then refuses what still comes and closes the sockets left idle.
  private async finishRequests(): Promise<void> {
    await this.requests.idle();
    this.refusing = true;
    (this.app?.getHttpServer() as Server | undefined)?.closeIdleConnections();
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
