import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { Batch } from '../batches/batch.entity.js';
import { Essay } from '../essays/essay.entity.js';
import { IdempotencyKey } from '../essays/idempotency/idempotency-key.entity.js';
import { CreateEssays1732636800000 } from './migrations/1732636800000-create-essays.js';
import { AddEssayCorrelationId1764201600000 } from './migrations/1764201600000-add-essay-correlation-id.js';
import { CreateBatches1795737600000 } from './migrations/1795737600000-create-batches.js';
import { AddGrammarCheckAndIdempotencyKeys1796083200000 } from './migrations/1796083200000-add-grammar-check-and-idempotency-keys.js';
import { AddEssayIdempotencyKey1796860800000 } from './migrations/1796860800000-add-essay-idempotency-key.js';
import { SqliteJournal } from './sqlite-journal.js';

const IN_MEMORY = ':memory:';

/** The file of a `sqlite:` URL: `sqlite:data/x.sqlite`, `sqlite:///abs/x.sqlite`, `sqlite::memory:`. */
export function sqliteFileOf(databaseUrl: string): string {
  const path = decodeURIComponent(databaseUrl.replace(/^sqlite:/i, '').replace(/^\/\//, ''));
  return path === '' ? IN_MEMORY : path;
}

interface DatabaseSettings {
  DATABASE_URL: string;
  DATABASE_POOL_SIZE: number;
  DATABASE_MAX_OVERFLOW: number;
  /** @default 2000 */
  DATABASE_ACQUIRE_TIMEOUT_MS?: number;
  /** 0 for none. @default 5000 */
  DATABASE_STATEMENT_TIMEOUT_MS?: number;
}

/**
 * TypeORM options for the configured database: the embedded SQLite (sql.js,
 * a WebAssembly build that runs on every Node version without compiling) or
 * PostgreSQL. The schema comes from migrations, never from `synchronize`.
 * A SQLite file is read here, with its journal (see `SqliteJournal`).
 */
export async function databaseOptionsFor(config: DatabaseSettings): Promise<TypeOrmModuleOptions> {
  const common = {
    entities: [Essay, Batch, IdempotencyKey],
    migrations: [
      CreateEssays1732636800000,
      AddEssayCorrelationId1764201600000,
      CreateBatches1795737600000,
      AddGrammarCheckAndIdempotencyKeys1796083200000,
      AddEssayIdempotencyKey1796860800000,
    ],
    migrationsRun: true,
    synchronize: false,
  };

  if (/^sqlite:/i.test(config.DATABASE_URL)) {
    const file = sqliteFileOf(config.DATABASE_URL);
    if (file === IN_MEMORY) return { ...common, type: 'sqljs' };
    const { database, journal } = await SqliteJournal.open(file);
    // No autoSave: it would write the whole file after every statement.
    return { ...common, type: 'sqljs', database, subscribers: [journal.subscriber()] };
  }

  const statementTimeoutMs = config.DATABASE_STATEMENT_TIMEOUT_MS ?? 5_000;
  return {
    ...common,
    type: 'postgres',
    url: config.DATABASE_URL,
    // node-postgres has no overflow: the pool keeps DATABASE_POOL_SIZE idle
    // connections and grows to POOL_SIZE + MAX_OVERFLOW under load.
    poolSize: config.DATABASE_POOL_SIZE + config.DATABASE_MAX_OVERFLOW,
    extra: {
      min: config.DATABASE_POOL_SIZE,
      // node-postgres waits forever for a free connection by default.
      connectionTimeoutMillis: config.DATABASE_ACQUIRE_TIMEOUT_MS ?? 2_000,
      // Sent by node-postgres as the session's statement_timeout: no query runs unbounded.
      statement_timeout: statementTimeoutMs,
      // The server's timeout never fires when its packets are lost: the client
      // gives up a second after it ("Query read timeout", a 503).
      ...(statementTimeoutMs > 0 && { query_timeout: statementTimeoutMs + 1_000 }),
      idleTimeoutMillis: 30_000,
    },
    retryAttempts: 3,
    retryDelay: 1_000,
  };
}
