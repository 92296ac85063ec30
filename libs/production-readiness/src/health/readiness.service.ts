import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService } from '@nestjs/terminus';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { SERVICE_CONFIG } from '../config/default-service-config.js';
import { MessageBus } from '../messaging/message-bus.js';
import { MetricsRegistry } from '../metrics/metrics-registry.js';
import { RedisConnection } from '../redis/redis-connection.js';
import {
  HEALTH_OPTIONS,
  resolveHealthOptions,
  type DependencyCheck,
  type HealthOptions,
  type ResolvedHealthOptions,
} from './health.options.js';
import type { CheckReport, HealthReport } from './health-report.js';
import { brokerCheck } from './checks/broker.check.js';
import { databaseCheck, findDataSource } from './checks/database.check.js';
import { httpCheck } from './checks/http.check.js';
import { redisCheck } from './checks/redis.check.js';
import { messageSanitizer } from './sanitize-message.js';

/**
 * Readiness: every required dependency answers within its timeout, the app
 * has started, and it is not shutting down. Checks run in parallel through
 * terminus' HealthIndicatorService, each with its timeout and a short shared
 * cache, so concurrent probes share one query per dependency per interval.
 */
@Injectable()
export class ReadinessService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Health');
  private readonly options: ResolvedHealthOptions;
  private readonly checks = new Map<string, DependencyCheck>();
  private readonly sanitize: (message: string) => string;
  private readonly recordCheck?: (name: string, report: CheckReport) => void;
  private isStarted = false;
  private isShuttingDownState = false;

  constructor(
    @Inject(HEALTH_OPTIONS) options: HealthOptions,
    @Inject(SERVICE_CONFIG) private readonly config: BaseServiceConfig,
    private readonly indicators: HealthIndicatorService,
    private readonly moduleRef: ModuleRef,
    @Optional() private readonly redis?: RedisConnection,
    @Optional() private readonly bus?: MessageBus,
    @Optional() metrics?: MetricsRegistry,
  ) {
    this.options = resolveHealthOptions(options);
    if (metrics) {
      const up = metrics.gauge({
        name: 'health_check_up',
        help: 'Whether a dependency check last answered in time: 1 up, 0 down or degraded.',
        labelNames: ['check', 'required'],
      });
      const duration = metrics.gauge({
        name: 'health_check_duration_seconds',
        help: 'How long a dependency check last took.',
        labelNames: ['check'],
      });
      this.recordCheck = (name, report) => {
        up.set({ check: name, required: String(report.required) }, report.status === 'up' ? 1 : 0);
        duration.set({ check: name }, report.responseTimeMs / 1000);
      };
    }
    this.sanitize = messageSanitizer([
      config.DATABASE_URL,
      config.REDIS_URL,
      config.NATS_URL,
      config.RABBITMQ_URL,
      // Every broker of the list, not only the first: any of them may be named in an error.
      config.KAFKA_BOOTSTRAP_SERVERS?.split(',')
        .map((broker) => `kafka://${broker.trim()}`)
        .join(','),
    ]);
  }

  async onModuleInit(): Promise<void> {
    const optional = new Set(this.options.optionalChecks);
    if (this.options.autoChecks) {
      const dataSource = await findDataSource(this.moduleRef);
      if (dataSource) this.register(databaseCheck(dataSource, !optional.has('database')));
      if (this.redis?.client) this.register(redisCheck(this.redis.client, !optional.has('redis')));
      if (this.bus?.isEnabled) this.register(brokerCheck(this.bus, !optional.has('broker')));
    }
    for (const dependency of this.options.httpDependencies) this.register(httpCheck(dependency));
    for (const check of this.options.checks) this.register(check);
  }

  onApplicationBootstrap(): void {
    this.isStarted = true;
  }

  onModuleDestroy(): void {
    this.markShuttingDown();
  }

  /** Adds a check (from an app's own module, at init). A later one replaces a same-named one. */
  register(check: DependencyCheck): void {
    this.checks.set(check.name, check);
  }

  /** The names of the registered checks. */
  get checkNames(): string[] {
    return [...this.checks.keys()];
  }

  get isShuttingDown(): boolean {
    return this.isShuttingDownState;
  }

  /** Readiness fails from now on (the shutdown sequence calls this first). */
  markShuttingDown(): void {
    if (!this.isShuttingDownState) this.logger.log('Readiness now fails: shutting down');
    this.isShuttingDownState = true;
  }

  /** True once the app has bootstrapped (migrations run, modules initialized). */
  get hasStarted(): boolean {
    return this.isStarted;
  }

  /** Runs every check (or reuses a fresh result) and gives the verdict. */
  async report(): Promise<HealthReport> {
    const entries = await Promise.all(
      [...this.checks.values()].map(async (check) => {
        const report = await this.run(check);
        this.recordCheck?.(check.name, report);
        return [check.name, report] as const;
      }),
    );
    const checks = Object.fromEntries(entries);
    const values = Object.values(checks);
    const failing = values.some((check) => check.status === 'down' && check.required);
    const degraded = values.some((check) => check.status !== 'up');
    const reason = !this.isStarted
      ? 'starting'
      : this.isShuttingDownState
        ? 'shutting down'
        : undefined;
    return {
      status: failing || reason ? 'fail' : degraded ? 'warn' : 'pass',
      service: this.config.SERVICE_NAME,
      version: this.config.SERVICE_VERSION,
      ...(reason && { reason }),
      checks,
    };
  }

  private async run(check: DependencyCheck): Promise<CheckReport> {
    const required = check.required ?? true;
    let attempt = this.indicators
      .check(check.name)
      .attempt(async ({ signal }) => {
        const verdict = await check.check(signal);
        if (!verdict.up) throw new CheckDownError(verdict.reason);
        return withoutReservedKeys(verdict.details);
      })
      .withTimeout(check.timeoutMs ?? this.options.checkTimeoutMs);
    if (this.options.cacheTtlMs > 0) attempt = attempt.cacheFor(this.options.cacheTtlMs);
    const result = (await attempt)[check.name];
    const { status, responseTime, message, cachedResponse, ...details } = result as {
      status: 'up' | 'down' | 'degraded';
      responseTime?: number;
      message?: unknown;
      cachedResponse?: boolean;
    } & Record<string, unknown>;
    const isDown = status !== 'up';
    return {
      ...details,
      status: isDown ? (required ? 'down' : 'degraded') : 'up',
      required,
      responseTimeMs: responseTime ?? 0,
      ...(isDown && {
        error: this.sanitize(typeof message === 'string' ? message : 'unavailable'),
      }),
      ...(cachedResponse && { cached: true }),
    };
  }
}

// terminus throws on details named like its own fields (`status`, `responseTime`,
// `cachedResponse`), which would turn one check's details into a 500 on every probe.
const RESERVED_DETAILS = new Set(['status', 'responseTime', 'cachedResponse']);

function withoutReservedKeys(
  details: Record<string, unknown> | undefined,
): Record<string, unknown> {
  if (!details) return {};
  return Object.fromEntries(Object.entries(details).filter(([key]) => !RESERVED_DETAILS.has(key)));
}

// Thrown for a down verdict: terminus reports a rejected attempt as down, with its message.
class CheckDownError extends Error {}
