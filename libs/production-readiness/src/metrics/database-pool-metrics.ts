import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { findDataSource } from '../health/checks/database.check.js';
import { MetricsRegistry, type PoolUsage } from './metrics-registry.js';

// node-postgres' Pool, as TypeORM's postgres driver holds it (`driver.master`).
interface PgPoolLike {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  options?: { max?: number };
}

function isPgPool(value: unknown): value is PgPoolLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as PgPoolLike).totalCount === 'number' &&
    typeof (value as PgPoolLike).waitingCount === 'number'
  );
}

function pgPoolUsage(pool: PgPoolLike): PoolUsage {
  return {
    active: pool.totalCount - pool.idleCount,
    idle: pool.idleCount,
    max: pool.options?.max,
    waiting: pool.waitingCount,
  };
}

/**
 * Shows the app's TypeORM pool in the `database_connections_*` gauges without
 * user code, read from the pool itself when scraped. PostgreSQL (node-postgres)
 * is read; other drivers can be shown with MetricsRegistry.trackPool().
 */
@Injectable()
export class DatabasePoolMetrics implements OnApplicationBootstrap, OnModuleDestroy {
  private untrack?: () => void;

  constructor(
    private readonly metrics: MetricsRegistry,
    private readonly moduleRef: ModuleRef,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.metrics.isEnabled) return;
    const dataSource = await findDataSource(this.moduleRef);
    const pool = (dataSource?.driver as { master?: unknown } | undefined)?.master;
    if (!isPgPool(pool)) return;
    this.untrack = this.metrics.trackPool('default', () => pgPoolUsage(pool));
  }

  onModuleDestroy(): void {
    this.untrack?.();
  }
}
