import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Keeps the submitting request's correlation id, so redelivered essays log under it too. */
export class AddEssayCorrelationId1764201600000 implements MigrationInterface {
  name = 'AddEssayCorrelationId1764201600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'essays',
      new TableColumn({ name: 'correlation_id', type: 'varchar', length: '128', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('essays', 'correlation_id');
  }
}
