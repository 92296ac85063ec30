import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** The essays table, written once for both SQLite and PostgreSQL. */
export class CreateEssays1732636800000 implements MigrationInterface {
  name = 'CreateEssays1732636800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { driver } = queryRunner.connection;
    const timestamp = driver.normalizeType({ type: Date });
    await queryRunner.createTable(
      new Table({
        name: 'essays',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'title', type: 'varchar', length: '200' },
          { name: 'text', type: 'text' },
          { name: 'language', type: 'varchar', length: '2', isNullable: true },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'word_count', type: 'integer', isNullable: true },
          { name: 'sentence_count', type: 'integer', isNullable: true },
          { name: 'readability_score', type: 'double precision', isNullable: true },
          { name: 'detected_language', type: 'varchar', length: '8', isNullable: true },
          {
            name: 'created_at',
            type: timestamp,
            default: driver.mappedDataTypes.createDateDefault,
          },
          { name: 'processed_at', type: timestamp, isNullable: true },
        ],
      }),
    );
    await queryRunner.createIndex(
      'essays',
      new TableIndex({ name: 'essays_status_created_at', columnNames: ['status', 'created_at'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('essays');
  }
}
