import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { ReadinessService } from '../health/readiness.service.js';
import { MetricsRegistry } from '../metrics/metrics-registry.js';
import { CIRCUIT_STATE_VALUE, type CircuitState } from './circuit-breaker.js';
import {
  ResiliencePipeline,
  type AttemptContext,
  type ExecuteOptions,
  type PolicyObserver,
} from './resilience-pipeline.js';
import {
  RESILIENCE_OPTIONS,
  resolvePolicyOptions,
  type ResilienceOptions,
  type ResiliencePolicyOptions,
} from './resilience.options.js';
import { RESILIENCE_POLICIES_REF, RESILIENT_CLASS } from './resilient.decorator.js';

/** The name of a breaker's check in /healthz and /readyz. */
export function circuitCheckName(policy: string): string {
  return `circuit-breaker:${policy}`;
}

/**
 * The app's named resilience policies, declared in the module options
 * (`resilience: { policies: { 'language-tool': {...} } }`):
 *
 * ```ts
 * const issues = await this.resilience.execute('language-tool', ({ signal }) => check(text, signal), {
 *   idempotent: true,
 *   fallback: () => undefined,
 * });
 * ```
 *
 * Every policy reports `policy_calls_total{name,outcome}`, `retries_total{name,outcome}`
 * and, with a breaker, `circuit_breaker_state{name}` (0 closed, 1 half-open, 2 open)
 * and `circuit_breaker_transitions_total{name,from,to}`; state changes are logged.
 * From its first call, a breaker shows in /healthz as `circuit-breaker:<name>`,
 * `degraded` while open or half-open (failing readiness only when `required`).
 */
@Injectable()
export class ResiliencePolicies implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Resilience');
  private readonly policies = new Map<string, ResiliencePipeline>();
  private readonly defaults: ResiliencePolicyOptions;
  private readonly observer: PolicyObserver;
  private readonly checked = new Set<string>();
  private readonly setState?: (policy: string, state: CircuitState) => void;

  constructor(
    @Inject(RESILIENCE_OPTIONS) options: ResilienceOptions,
    private readonly discovery: DiscoveryService,
    @Optional() metrics?: MetricsRegistry,
    @Optional() private readonly readiness?: ReadinessService,
  ) {
    this.defaults = options.defaults ?? {};
    const calls = metrics?.counter({
      name: 'policy_calls_total',
      help: 'Calls through a resilience policy, by how they ended (success, failure, timeout, circuit_open, bulkhead_full, fallback).',
      labelNames: ['name', 'outcome'],
    });
    const retries = metrics?.counter({
      name: 'retries_total',
      help: 'Transient failures of a policy, by what followed: retried, or why not (exhausted, budget_exhausted, deadline_exceeded, not_idempotent, retry_after_too_long).',
      labelNames: ['name', 'outcome'],
    });
    const transitions = metrics?.counter({
      name: 'circuit_breaker_transitions_total',
      help: 'Circuit breaker state changes.',
      labelNames: ['name', 'from', 'to'],
    });
    const state = metrics?.gauge({
      name: 'circuit_breaker_state',
      help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open.',
      labelNames: ['name'],
    });
    if (state) this.setState = (name, value) => state.set({ name }, CIRCUIT_STATE_VALUE[value]);
    this.observer = {
      onCall: (name, outcome) => calls?.inc({ name, outcome }),
      onRetry: (name, outcome, attempt, delayMs, error) => {
        retries?.inc({ name, outcome });
        this.logger.debug?.(
          `${name}: attempt ${attempt} failed transiently (${describe(error)}): ` +
            (outcome === 'retried' ? `retrying in ${delayMs} ms` : `not retried (${outcome})`),
        );
      },
      onStateChange: (name, from, to, reason) => {
        transitions?.inc({ name, from, to });
        this.setState?.(name, to);
        const message = `Circuit breaker ${name}: ${from} → ${to} (${reason})`;
        if (to === 'open') this.logger.warn(message);
        else this.logger.log(message);
      },
    };
    for (const [name, policy] of Object.entries(options.policies ?? {})) this.define(name, policy);
  }

  /** Gives the instances with @Resilient methods their way back to this service. */
  onModuleInit(): void {
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    for (const { instance, metatype } of wrappers) {
      if (!instance || typeof instance !== 'object' || !metatype) continue;
      if (!Reflect.getMetadata(RESILIENT_CLASS, metatype)) continue;
      Object.defineProperty(instance, RESILIENCE_POLICIES_REF, { value: this, configurable: true });
    }
  }

  onApplicationShutdown(): void {
    for (const policy of this.policies.values()) policy.dispose();
  }

  /** Declares (or replaces) a policy at run time; its options are validated at once. */
  define(name: string, options: ResiliencePolicyOptions = {}): ResiliencePipeline {
    this.policies.get(name)?.dispose();
    const policy = new ResiliencePipeline(
      resolvePolicyOptions(name, options, this.defaults),
      this.observer,
    );
    this.policies.set(name, policy);
    if (policy.breaker) this.setState?.(name, policy.breaker.state);
    return policy;
  }

  /** Whether a policy of that name is declared. */
  has(name: string): boolean {
    return this.policies.has(name);
  }

  /** The declared policy; throws naming the declared ones when there is none. */
  get(name: string): ResiliencePipeline {
    const policy = this.policies.get(name);
    if (!policy) {
      const declared = [...this.policies.keys()].join(', ') || 'none';
      throw new Error(
        `No resilience policy named "${name}" (declared: ${declared}). ` +
          `Declare it in ProductionReadinessModule.forRoot({ resilience: { policies: { '${name}': {} } } }).`,
      );
    }
    return policy;
  }

  /** Runs `fn` under the named policy: see ResiliencePipeline and ExecuteOptions. */
  execute<T, F = T>(
    name: string,
    fn: (context: AttemptContext) => Promise<T> | T,
    options?: ExecuteOptions<F>,
  ): Promise<T | F> {
    const policy = this.get(name);
    if (policy.breaker && !this.checked.has(name)) this.registerCheck(policy);
    return policy.execute(fn, options);
  }

  // Registered at first use: a dependency never called has no breaker state to report.
  private registerCheck(policy: ResiliencePipeline): void {
    this.checked.add(policy.name);
    const { breaker } = policy;
    if (!breaker || !this.readiness || !policy.options.circuitBreaker) return;
    this.readiness.register({
      name: circuitCheckName(policy.name),
      required: policy.options.circuitBreaker.required,
      check: () => {
        if (breaker.state === 'open') {
          return {
            up: false,
            reason: `circuit open: calls fail fast for another ${breaker.remainingOpenMs} ms`,
          };
        }
        if (breaker.state === 'half_open') {
          return { up: false, reason: 'circuit half-open: trial calls running' };
        }
        return { up: true, details: { state: breaker.state } };
      },
    });
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
