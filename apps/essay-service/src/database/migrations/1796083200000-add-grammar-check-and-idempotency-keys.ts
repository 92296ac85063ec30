import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The grammar check's outcome on each essay, and the Idempotency-Keys of
 * POST /essays (used when there is no Redis); for SQLite and PostgreSQL.
 */
export class AddGrammarCheckAndIdempotencyKeys1796083200000 implements MigrationInterface {
  name = 'AddGrammarCheckAndIdempotencyKeys1796083200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const timestamp = queryRunner.connection.driver.normalizeType({ type: Date });
    await queryRunner.addColumns('essays', [
      new TableColumn({ name: 'grammar_check', type: 'varchar', length: '16', isNullable: true }),
      new TableColumn({ name: 'grammar_issues', type: 'integer', isNullable: true }),
    ]);
    await queryRunner.createTable(
      new Table({
        name: 'idempotency_keys',
        columns: [
          { name: 'key', type: 'varchar', length: '64', isPrimary: true },
          { name: 'fingerprint', type: 'varchar', length: '64' },
          { name: 'claim_id', type: 'varchar', length: '36' },
          { name: 'response', type: 'text', isNullable: true },
          { name: 'expires_at', type: timestamp },
        ],
      }),
    );
    await queryRunner.createIndex(
      'idempotency_keys',
      new TableIndex({ name: 'idempotency_keys_expires_at', columnNames: ['expires_at'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('idempotency_keys');
    await queryRunner.dropColumn('essays', 'grammar_issues');
    await queryRunner.dropColumn('essays', 'grammar_check');
  }
}
