import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Batches of essays submitted together, and each essay's batch; for SQLite and PostgreSQL. */
export class CreateBatches1795737600000 implements MigrationInterface {
  name = 'CreateBatches1795737600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { driver } = queryRunner.connection;
    const timestamp = driver.normalizeType({ type: Date });
    await queryRunner.createTable(
      new Table({
        name: 'batches',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'total', type: 'integer' },
          {
            name: 'created_at',
            type: timestamp,
            default: driver.mappedDataTypes.createDateDefault,
          },
          { name: 'completed_at', type: timestamp, isNullable: true },
        ],
      }),
    );
    await queryRunner.addColumn(
      'essays',
      new TableColumn({ name: 'batch_id', type: 'varchar', length: '36', isNullable: true }),
    );
    await queryRunner.createIndex(
      'essays',
      new TableIndex({ name: 'essays_batch_id', columnNames: ['batch_id'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('essays', 'essays_batch_id');
    await queryRunner.dropColumn('essays', 'batch_id');
    await queryRunner.dropTable('batches');
  }
}
