import { readEmbeddedDatabase } from '../../apps/essay-service/src/database/sqlite-journal.js';

/** An `essays` row as read from the SQLite file. */
export interface SqliteEssayRow {
  id: string;
  status: string;
  word_count: number | null;
  processed_at: string | null;
}

/** What a SQLite database file holds, read without the app. */
export interface SqliteFileContents {
  /** `PRAGMA integrity_check`: `'ok'` for a sound file. */
  integrity: string;
  tables: string[];
  essays: SqliteEssayRow[];
}

/**
 * Opens the file with its journal, as the next start of the app would (with
 * sql.js, the engine the app uses, changing nothing on disk), and reads it.
 */
export async function readSqliteFile(path: string): Promise<SqliteFileContents> {
  const database = await readEmbeddedDatabase(path);
  try {
    const select = <Row>(sql: string): Row[] => {
      const statement = database.prepare(sql);
      const rows: Row[] = [];
      while (statement.step()) rows.push(statement.getAsObject() as Row);
      statement.free();
      return rows;
    };
    const [{ integrity_check: integrity }] = select<{ integrity_check: string }>(
      'PRAGMA integrity_check',
    );
    const tables = select<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    ).map(({ name }) => name);
    const essays = tables.includes('essays')
      ? select<SqliteEssayRow>('SELECT id, status, word_count, processed_at FROM essays')
      : [];
    return { integrity, tables, essays };
  } finally {
    database.close();
  }
}
