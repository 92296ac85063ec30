import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Each essay keeps the (scoped) Idempotency-Key it was submitted with, unique:
 * a key then has at most one essay whatever the timing of a crash, and a
 * retry finds that essay even when the key's record never got its answer.
 * For SQLite and PostgreSQL; both allow any number of NULLs in a unique index.
 */
export class AddEssayIdempotencyKey1796860800000 implements MigrationInterface {
  name = 'AddEssayIdempotencyKey1796860800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'essays',
      new TableColumn({ name: 'idempotency_key', type: 'varchar', length: '64', isNullable: true }),
    );
    await queryRunner.createIndex(
      'essays',
      new TableIndex({
        name: 'essays_idempotency_key',
        columnNames: ['idempotency_key'],
        isUnique: true,
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('essays', 'essays_idempotency_key');
    await queryRunner.dropColumn('essays', 'idempotency_key');
  }
}
