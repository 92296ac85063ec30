import { getHeapStatistics } from 'node:v8';
import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { SERVICE_CONFIG } from '../config/default-service-config.js';
import {
  HEALTH_OPTIONS,
  resolveHealthOptions,
  type HealthOptions,
} from '../health/health.options.js';
import { findDataSource } from '../health/checks/database.check.js';
import { MessageBus } from '../messaging/message-bus.js';
import { RedisConnection } from '../redis/redis-connection.js';
import { GracefulShutdown } from '../shutdown/graceful-shutdown.service.js';
import { tracingState } from '../tracing/tracing-state.js';
import { containerMemoryLimitBytes } from './container-memory.js';
import { StartupRefusedError } from './startup-refused.error.js';
import {
  assessStartupRisks,
  type ConfiguredDependency,
  type StartupFacts,
  type StartupReport,
} from './startup-report.js';

/** How long the report waits for the database to tell its connection limit. */
const SERVER_LIMIT_QUERY_TIMEOUT_MS = 1_000;

/**
 * Logs the startup report once, when the app has bootstrapped:
 * the features on, the dependencies configured with their timeouts, the
 * budgets (shutdown, startup, probes, heap), then one warning per risk. With
 * STRICT_READINESS=true a risk stops the startup (bootstrapService() exits 1).
 */
@Injectable()
export class StartupReportService implements OnApplicationBootstrap {
  // The log context keeps its first name: operators' log queries filter on it.
  private readonly logger = new Logger('ReadinessReport');
  private last?: StartupReport;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: BaseServiceConfig,
    private readonly moduleRef: ModuleRef,
    @Optional() private readonly shutdown?: GracefulShutdown,
    @Optional() @Inject(HEALTH_OPTIONS) private readonly healthOptions?: HealthOptions,
    @Optional() private readonly bus?: MessageBus,
    @Optional() private readonly redis?: RedisConnection,
  ) {}

  /** The report logged at startup (undefined before the app has bootstrapped). */
  get report(): StartupReport | undefined {
    return this.last;
  }

  async onApplicationBootstrap(): Promise<void> {
    const report = assessStartupRisks(await this.gatherFacts());
    this.last = report;
    const { risks, ...facts } = report;
    this.logger.log({
      message:
        risks.length === 0
          ? 'Production readiness: no risks found'
          : `Production readiness: ${risks.length} risk${risks.length === 1 ? '' : 's'} ` +
            `(${risks.map((risk) => risk.code).join(', ')})`,
      ...facts,
      risks: risks.map((risk) => risk.code),
    });
    for (const risk of risks) this.logger.warn({ message: risk.message, risk: risk.code });
    if (this.config.STRICT_READINESS && risks.length > 0) throw new StartupRefusedError(risks);
  }

  private async gatherFacts(): Promise<StartupFacts> {
    const config = this.config;
    const dependencies: ConfiguredDependency[] = [];
    let databasePool: StartupFacts['databasePool'];

    const dataSource = await findDataSource(this.moduleRef);
    if (dataSource) {
      const kind = String(dataSource.options.type);
      if (kind === 'postgres') {
        dependencies.push({
          name: 'database',
          kind,
          timeoutsMs: {
            DATABASE_ACQUIRE_TIMEOUT_MS: config.DATABASE_ACQUIRE_TIMEOUT_MS,
            DATABASE_STATEMENT_TIMEOUT_MS: config.DATABASE_STATEMENT_TIMEOUT_MS,
          },
        });
        databasePool = {
          max: config.DATABASE_POOL_SIZE + config.DATABASE_MAX_OVERFLOW,
          serverLimit: await this.postgresConnectionLimit(dataSource),
        };
      } else {
        // An embedded database (sql.js) runs in-process: nothing to time out.
        dependencies.push({ name: 'database', kind, timeoutsMs: {} });
      }
    }
    if (this.redis?.isConfigured) {
      dependencies.push({
        name: 'redis',
        kind: 'redis',
        timeoutsMs: { REDIS_COMMAND_TIMEOUT_MS: config.REDIS_COMMAND_TIMEOUT_MS },
      });
    }
    if (this.bus?.isEnabled)
      dependencies.push({ name: 'broker', kind: this.bus.kind, timeoutsMs: {} });

    return {
      features: {
        metrics: config.METRICS_ENABLED,
        ...(config.METRICS_PORT !== undefined && { metricsPort: config.METRICS_PORT }),
        tracing: tracingState()?.isActive ?? false,
        apiKeyCount: config.API_KEYS.length,
        corsOriginCount: config.CORS_ORIGINS.length,
        ...(this.bus?.isEnabled && { messaging: this.bus.kind }),
        strictReadiness: config.STRICT_READINESS,
      },
      dependencies,
      budgets: {
        drainDelayMs: this.shutdown?.drainDelayMs ?? config.SHUTDOWN_DRAIN_DELAY_MS ?? 0,
        shutdownTimeoutMs: this.shutdown?.timeoutMs ?? config.SHUTDOWN_TIMEOUT_MS,
        gracePeriodMs: config.SHUTDOWN_GRACE_PERIOD_MS,
        startupTimeoutMs: config.STARTUP_TIMEOUT_MS,
        healthCheckTimeoutMs: resolveHealthOptions(this.healthOptions).checkTimeoutMs,
      },
      ...(databasePool && { databasePool }),
      memory: {
        heapLimitBytes: getHeapStatistics().heap_size_limit,
        containerLimitBytes: containerMemoryLimitBytes(),
      },
    };
  }

  // The connections a non-superuser role may open; undefined when the server
  // does not say in time (the report must not hold the startup).
  private async postgresConnectionLimit(dataSource: {
    query(sql: string): Promise<unknown>;
  }): Promise<number | undefined> {
    const query = dataSource.query(
      "SELECT current_setting('max_connections')::int - " +
        "current_setting('superuser_reserved_connections')::int AS limit",
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), SERVER_LIMIT_QUERY_TIMEOUT_MS);
    });
    try {
      const rows = (await Promise.race([query, timeout])) as { limit: number }[] | undefined;
      const limit = Number(rows?.[0]?.limit);
      return Number.isInteger(limit) ? limit : undefined;
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
      void query.catch(() => undefined);
    }
  }
}
