import type { Database as SqlJsDatabase, SqlValue } from 'sql.js';
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import { SqliteJournal, type JournaledStatement } from './sqlite-journal.js';

/** Rows of one entity to insert. */
export interface RowsToInsert {
  target: EntityTarget<ObjectLiteral>;
  rows: ObjectLiteral[];
}

/** The little of TypeORM's sql.js driver used here: its one connection and its export. */
interface SqlJsDriver {
  databaseConnection: SqlJsDatabase;
  export(): Uint8Array;
}

/**
 * Inserts all the rows or none, in one transaction, in the order given.
 *
 * On PostgreSQL that is a TypeORM transaction on a connection of its own. On
 * sql.js every query shares the one connection, so a TypeORM transaction
 * would take in the statements other requests run while it awaits (and roll
 * back their accepted essays with it), or fail with "transaction already
 * started" beside another. The statements are built by TypeORM and run
 * synchronously instead, so nothing else runs between BEGIN and COMMIT, and
 * go to the database file's journal as one record: on disk all or none.
 */
export async function insertAtomically(
  dataSource: DataSource,
  inserts: RowsToInsert[],
): Promise<void> {
  if (dataSource.options.type !== 'sqljs') {
    await dataSource.transaction(async (manager) => {
      for (const { target, rows } of inserts) await manager.insert(target, rows);
    });
    return;
  }
  const statements = inserts.map(({ target, rows }) =>
    dataSource.createQueryBuilder().insert().into(target).values(rows).getQueryAndParameters(),
  );
  const driver = dataSource.driver as unknown as SqlJsDriver;
  const database = driver.databaseConnection;
  const journal = SqliteJournal.of(dataSource);
  const transaction: JournaledStatement[] = [
    ['BEGIN', []],
    ...statements.map(([sql, parameters]): JournaledStatement => [sql, parameters as SqlValue[]]),
    ['COMMIT', []],
  ];
  for (const [sql] of transaction) await journal?.beforeWrite(sql);
  // Outside the try: a BEGIN refused (someone else's transaction is open) must
  // not roll back that other transaction.
  database.run('BEGIN');
  try {
    for (const [sql, parameters] of statements) database.run(sql, parameters as SqlValue[]);
    database.run('COMMIT');
  } catch (error) {
    database.run('ROLLBACK');
    throw error;
  }
  await journal?.append(transaction, driver);
}
