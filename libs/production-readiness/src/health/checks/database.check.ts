import type { ModuleRef } from '@nestjs/core';
import type { DependencyCheck } from '../health.options.js';

/**
 * What the library uses of a TypeORM DataSource. Declared here rather than
 * imported from typeorm, an optional peer: our published declarations must
 * type-check in an app without it (skipLibCheck off).
 */
export interface DataSourceLike {
  readonly isInitialized: boolean;
  readonly options: { readonly type: string };
  readonly driver: unknown;
  query(sql: string): Promise<unknown>;
}

/** The app's TypeORM DataSource, if it has one (typeorm is an optional dependency). */
export async function findDataSource(moduleRef: ModuleRef): Promise<DataSourceLike | undefined> {
  try {
    const typeorm = await import('typeorm');
    return moduleRef.get<unknown, DataSourceLike>(typeorm.DataSource, { strict: false });
  } catch {
    return undefined;
  }
}

/** `SELECT 1` on the app's own pool: PostgreSQL, the embedded SQLite, any TypeORM driver. */
export function databaseCheck(dataSource: DataSourceLike, required = true): DependencyCheck {
  return {
    name: 'database',
    required,
    check: async () => {
      if (!dataSource.isInitialized) return { up: false, reason: 'not connected' };
      await dataSource.query('SELECT 1');
      return { up: true, details: { driver: dataSource.options.type } };
    },
  };
}
