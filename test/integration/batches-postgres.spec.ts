import { randomUUID } from 'node:crypto';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Batch } from '../../apps/essay-service/src/batches/batch.entity.js';
import type { BatchView } from '../../apps/essay-service/src/batches/batches.controller.js';
import { databaseOptionsFor } from '../../apps/essay-service/src/database/database.options.js';
import { insertAtomically } from '../../apps/essay-service/src/database/insert-atomically.js';
import { Essay } from '../../apps/essay-service/src/essays/essay.entity.js';
import { essayOfWords } from '../support/essay-rows.js';
import {
  startEssayService,
  uniqueServiceName,
  type HttpAgent,
  type RunningEssayService,
} from '../support/essay-service.js';
import { sampleValue } from '../support/exposition.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { waitFor } from '../support/wait-for.js';

async function waitForCompleted(http: HttpAgent, id: string): Promise<BatchView> {
  return waitFor(
    async () => {
      const batch = (await http.get(`/batches/${id}`).expect(200)).body as BatchView;
      return batch.status === 'completed' ? batch : undefined;
    },
    15_000,
    { description: `batch ${id} to complete`, intervalMs: 100 },
  );
}

describe('batches on PostgreSQL', () => {
  const serviceName = uniqueServiceName('batches');
  let database: TestDatabase;
  const running: RunningEssayService[] = [];

  const start = async (settings: Record<string, string> = {}) => {
    const service = await startEssayService({
      env: { DATABASE_URL: database.url, SERVICE_NAME: serviceName, ...settings },
    });
    running.push(service);
    return service;
  };

  /** A DataSource of the test's own on the migrated database, for what the API can't do. */
  const connect = async () =>
    new DataSource(
      (await databaseOptionsFor({
        DATABASE_URL: database.url,
        DATABASE_POOL_SIZE: 1,
        DATABASE_MAX_OVERFLOW: 0,
      })) as DataSourceOptions,
    ).initialize();

  beforeAll(async () => {
    database = await createTestDatabase('batches_pg');
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((service) => service.close()));
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('migrates: a batches table and an indexed, nullable essays.batch_id', async () => {
    await start();

    const migrations = await database.query<{ name: string }>('SELECT name FROM migrations');
    expect(migrations).toContainEqual({ name: 'CreateBatches1795737600000' });
    const columns = await database.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
       WHERE table_schema = 'public' AND (table_name = 'batches' OR column_name = 'batch_id')
       ORDER BY table_name, ordinal_position`,
    );
    expect(columns).toEqual([
      {
        table_name: 'batches',
        column_name: 'id',
        data_type: 'character varying',
        is_nullable: 'NO',
      },
      { table_name: 'batches', column_name: 'total', data_type: 'integer', is_nullable: 'NO' },
      {
        table_name: 'batches',
        column_name: 'created_at',
        data_type: 'timestamp without time zone',
        is_nullable: 'NO',
      },
      {
        table_name: 'batches',
        column_name: 'completed_at',
        data_type: 'timestamp without time zone',
        is_nullable: 'YES',
      },
      {
        table_name: 'essays',
        column_name: 'batch_id',
        data_type: 'character varying',
        is_nullable: 'YES',
      },
    ]);
    const indexes = await database.query<{ indexdef: string }>(
      "SELECT indexdef FROM pg_indexes WHERE indexname = 'essays_batch_id'",
    );
    expect(indexes).toEqual([{ indexdef: expect.stringContaining('(batch_id)') as unknown }]);
  });

  it('reverts and reapplies the migration', async () => {
    await start();
    await Promise.all(running.splice(0).map((service) => service.close()));
    const dataSource = await connect();
    try {
      // The grammar-check and idempotency-key migration, and the essays'
      // idempotency key, came after this one.
      await dataSource.undoLastMigration();
      await dataSource.undoLastMigration();
      await dataSource.undoLastMigration();
      const tables = await database.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_name IN ('batches', 'idempotency_keys')",
      );
      expect(tables).toEqual([]);

      expect((await dataSource.runMigrations()).map(({ name }) => name)).toEqual([
        'CreateBatches1795737600000',
        'AddGrammarCheckAndIdempotencyKeys1796083200000',
        'AddEssayIdempotencyKey1796860800000',
      ]);
    } finally {
      await dataSource.destroy();
    }
  });

  it('stores a batch and its essays, processes them, and stores when it completed', async () => {
    const service = await start();
    const texts = Array.from({ length: 25 }, (_, index) => essayOfWords(index + 3));

    const accepted = await service.http
      .post('/batches')
      .send({ essays: texts.map((text, index) => ({ title: `Essay ${index}`, text })) })
      .expect(202);
    const { id } = accepted.body as { id: string };
    const stored = await database.query<{ count: string }>(
      'SELECT COUNT(*) AS count FROM essays WHERE batch_id = $1',
      [id],
    );
    expect(stored).toEqual([{ count: '25' }]);

    const batch = await waitForCompleted(service.http, id);

    expect(batch).toMatchObject({ id, total: 25, processed: 25, failed: 0, pending: 0 });
    const rows = await database.query<{ word_count: number }>(
      'SELECT word_count FROM essays WHERE batch_id = $1 ORDER BY word_count',
      [id],
    );
    expect(rows.map(({ word_count }) => word_count)).toEqual(texts.map((_, index) => index + 3));
    const [row] = await database.query<{ completed_at: Date | null }>(
      'SELECT completed_at FROM batches WHERE id = $1',
      [id],
    );
    expect(row.completed_at?.getTime()).toBe(Date.parse(batch.completedAt ?? ''));
  });

  it('counts the batches in progress for active_batches_count', async () => {
    const service = await start({ ESSAY_ANALYSIS_DELAY_MS: '1500' });
    const activeBatches = async () =>
      sampleValue(
        (await service.http.get('/metrics').expect(200)).text,
        'active_batches_count',
        {},
      );
    const essays = [{ title: 'One', text: essayOfWords(3) }];

    const ids = await Promise.all(
      [1, 2].map(
        async () =>
          (
            (await service.http.post('/batches').send({ essays }).expect(202)).body as {
              id: string;
            }
          ).id,
      ),
    );

    expect(await activeBatches()).toBe(2);
    for (const id of ids) await waitForCompleted(service.http, id);
    expect(await activeBatches()).toBe(0);
  });

  it('stores nothing of a batch whose insert fails part way', async () => {
    await start();
    await Promise.all(running.splice(0).map((service) => service.close()));
    const dataSource = await connect();
    try {
      const createdAt = new Date();
      const batch = { id: randomUUID(), total: 2, createdAt, completedAt: null };
      const essay = {
        id: randomUUID(),
        title: 'Twice',
        text: 'Same id.',
        language: null,
        status: 'pending',
        correlationId: null,
        batchId: batch.id,
        createdAt,
        processedAt: null,
      };

      await expect(
        insertAtomically(dataSource, [
          { target: Batch, rows: [batch] },
          { target: Essay, rows: [essay, essay] },
        ]),
      ).rejects.toThrow(/duplicate key/);

      expect(await database.query('SELECT id FROM batches WHERE id = $1', [batch.id])).toEqual([]);
      expect(await database.query('SELECT id FROM essays WHERE id = $1', [essay.id])).toEqual([]);
    } finally {
      await dataSource.destroy();
    }
  });
});
