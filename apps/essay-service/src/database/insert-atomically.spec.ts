import { randomUUID } from 'node:crypto';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Batch } from '../batches/batch.entity.js';
import { Essay } from '../essays/essay.entity.js';
import { databaseOptionsFor } from './database.options.js';
import { insertAtomically } from './insert-atomically.js';

let dataSource: DataSource;

beforeEach(async () => {
  const options = await databaseOptionsFor({
    DATABASE_URL: 'sqlite::memory:',
    DATABASE_POOL_SIZE: 1,
    DATABASE_MAX_OVERFLOW: 0,
  });
  dataSource = await new DataSource(options as DataSourceOptions).initialize();
});

afterEach(async () => {
  await dataSource?.destroy();
});

function batchOf(essays: number): { batch: Batch; essays: Essay[] } {
  const now = new Date();
  const batch = dataSource
    .getRepository(Batch)
    .create({ id: randomUUID(), total: essays, createdAt: now, completedAt: null });
  return {
    batch,
    essays: Array.from({ length: essays }, (_, index) =>
      dataSource.getRepository(Essay).create({
        id: randomUUID(),
        title: `Essay ${index + 1}`,
        text: 'One two three.',
        language: index % 2 ? 'en' : null,
        status: 'pending',
        correlationId: null,
        batchId: batch.id,
        createdAt: now,
        processedAt: null,
      }),
    ),
  };
}

describe('insertAtomically on sql.js', () => {
  it('stores every row, readable through TypeORM as written', async () => {
    const { batch, essays } = batchOf(500);

    await insertAtomically(dataSource, [
      { target: Batch, rows: [batch] },
      { target: Essay, rows: essays },
    ]);

    expect(await dataSource.getRepository(Batch).findOneBy({ id: batch.id })).toEqual(batch);
    const stored = await dataSource.getRepository(Essay).find({ where: { batchId: batch.id } });
    expect(stored).toHaveLength(500);
    const first = stored.find(({ id }) => id === essays[1].id);
    expect(first).toMatchObject({ language: 'en', status: 'pending', batchId: batch.id });
    expect(first?.createdAt.getTime()).toBe(batch.createdAt.getTime());
  });

  it('stores nothing when one row fails: the batch row is rolled back too', async () => {
    const { batch, essays } = batchOf(3);
    essays[2].id = essays[0].id;

    await expect(
      insertAtomically(dataSource, [
        { target: Batch, rows: [batch] },
        { target: Essay, rows: essays },
      ]),
    ).rejects.toThrow(/UNIQUE/);

    expect(await dataSource.getRepository(Batch).count()).toBe(0);
    expect(await dataSource.getRepository(Essay).count()).toBe(0);
  });

  it('leaves alone a transaction another caller has open', async () => {
    const runner = dataSource.createQueryRunner();
    await runner.startTransaction();
    const other = batchOf(1);
    await runner.manager.insert(Batch, other.batch);

    const { batch } = batchOf(0);
    await expect(insertAtomically(dataSource, [{ target: Batch, rows: [batch] }])).rejects.toThrow(
      /within a transaction/,
    );

    await runner.commitTransaction();
    expect(await dataSource.getRepository(Batch).findOneBy({ id: other.batch.id })).not.toBeNull();
  });
});
