import type { ModuleRef } from '@nestjs/core';
import type { DataSource } from 'typeorm';
import type { DependencyCheck } from '../health.options.js';

/** The app's TypeORM DataSource, if it has one (typeorm is an optional dependency). */
export async function findDataSource(moduleRef: ModuleRef): Promise<DataSource | undefined> {
  try {
    const typeorm = await import('typeorm');
    return moduleRef.get(typeorm.DataSource, { strict: false });
  } catch {
    return undefined;
  }
}

/** `SELECT 1` on the app's own pool: PostgreSQL, the embedded SQLite, any TypeORM driver. */
export function databaseCheck(dataSource: DataSource, required = true): DependencyCheck {
  return {
    name: 'database',
    required,
    check: async () => {
      if (!dataSource.isInitialized) throw new Error('not connected');
      await dataSource.query('SELECT 1');
      return { driver: dataSource.options.type };
    },
  };
}
