import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

// pg ships no type declarations and @types/pg is not a dependency: load it
// through require and describe the little these fixtures use.
interface PgQueryResult<Row> {
  rows: Row[];
}
interface PgClient {
  connect(): Promise<void>;
  query<Row = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
  ): Promise<PgQueryResult<Row>>;
  end(): Promise<void>;
}
interface PgModule {
  Client: new (config: { connectionString: string }) => PgClient;
}
const pg = createRequire(import.meta.url)('pg') as PgModule;

/**
 * Where to create the test databases; the account must be allowed CREATE DATABASE.
 * @default 'postgres://postgres@127.0.0.1:5432/test'
 */
export const POSTGRES_ADMIN_URL =
  process.env.TEST_POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A database of its own for one test file, dropped by `drop()`. */
export interface TestDatabase {
  name: string;
  /** Connection URL for DATABASE_URL. */
  url: string;
  /** Runs one statement on the database (a fresh connection each time). */
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Ends every connection to the database, then drops it. */
  drop(): Promise<void>;
}

async function withClient<T>(url: string, action: (client: PgClient) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await action(client);
  } finally {
    await client.end();
  }
}

function urlOf(database: string): string {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * Creates an empty, uniquely named database: `<label>_<time>_<random>`,
 * lowercase, so concurrent test files and repeated runs never share one.
 */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const prefix = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 30);
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  // An identifier, not a value: CREATE DATABASE takes no parameters. The
  // name is built from [a-z0-9_] only, so quoting it is enough.
  await withClient(POSTGRES_ADMIN_URL, (admin) => admin.query(`CREATE DATABASE "${name}"`));
  const url = urlOf(name);
  let dropped = false;
  return {
    name,
    url,
    query: async <Row>(sql: string, params?: unknown[]) =>
      withClient(url, async (client) => (await client.query<Row>(sql, params)).rows),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await withClient(POSTGRES_ADMIN_URL, async (admin) => {
        // A killed child or an unclosed pool may still hold connections;
        // DROP DATABASE refuses while any is open.
        await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [name],
        );
        await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
      });
    },
  };
}
