import { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { CreateEssays1732636800000 } from './1732636800000-create-essays.js';
import { AddEssayCorrelationId1764201600000 } from './1764201600000-add-essay-correlation-id.js';
import { CreateBatches1795737600000 } from './1795737600000-create-batches.js';

let dataSource: DataSource | undefined;

afterEach(async () => {
  await dataSource?.destroy();
});

async function sqlJsBefore(): Promise<DataSource> {
  dataSource = await new DataSource({
    type: 'sqljs',
    migrations: [CreateEssays1732636800000, AddEssayCorrelationId1764201600000],
  }).initialize();
  await dataSource.runMigrations();
  return dataSource;
}

const columnsOf = async (source: DataSource, table: string) =>
  (await source.query<Array<{ name: string }>>(`PRAGMA table_info(${table})`)).map(
    ({ name }) => name,
  );

describe('CreateBatches1795737600000 on sql.js', () => {
  it('adds batches and essays.batch_id to a database holding essays, keeping them', async () => {
    const source = await sqlJsBefore();
    await source.query(
      "INSERT INTO essays (id, title, text, status) VALUES ('e1', 'Kept', 'Still here.', 'processed')",
    );

    const runner = source.createQueryRunner();
    await new CreateBatches1795737600000().up(runner);

    expect(await columnsOf(source, 'batches')).toEqual([
      'id',
      'total',
      'created_at',
      'completed_at',
    ]);
    expect(await columnsOf(source, 'essays')).toContain('batch_id');
    expect(await source.query('SELECT id, title, batch_id FROM essays')).toEqual([
      { id: 'e1', title: 'Kept', batch_id: null },
    ]);
    const indexes = await source.query<Array<{ name: string }>>('PRAGMA index_list(essays)');
    expect(indexes.map(({ name }) => name)).toContain('essays_batch_id');

    await new CreateBatches1795737600000().down(runner);

    expect(await columnsOf(source, 'batches')).toEqual([]);
    expect(await columnsOf(source, 'essays')).not.toContain('batch_id');
    expect(await source.query('SELECT id, title FROM essays')).toEqual([
      { id: 'e1', title: 'Kept' },
    ]);
  });
});
