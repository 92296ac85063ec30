import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { findDataSource } from '../health/checks/database.check.js';
import { traceDatabaseQueries, type TraceableDataSource } from './database-query-spans.js';

/**
 * Traces the queries of the app's default TypeORM DataSource (the one
 * TypeOrmModule.forRoot creates), whatever its driver. Installed by
 * ProductionReadinessModule only when tracing is active; an app without
 * TypeORM has no DataSource and this does nothing.
 */
@Injectable()
export class DatabaseQueryTracer implements OnModuleInit {
  constructor(private readonly moduleRef: ModuleRef) {}

  async onModuleInit(): Promise<void> {
    // TypeOrmModule's DataSource is created, and its migrations run, before
    // any module is initialized: every query after that is traced.
    const dataSource = (await findDataSource(this.moduleRef)) as
      Partial<TraceableDataSource> | undefined;
    if (typeof dataSource?.createQueryRunner === 'function') {
      traceDatabaseQueries(dataSource as TraceableDataSource);
    }
  }
}
