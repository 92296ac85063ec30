import type { Attributes } from '@opentelemetry/api';

/**
 * What query tracing reads of a TypeORM DataSource's options. Declared here
 * rather than imported from typeorm, an optional peer; every field is
 * `unknown` because the drivers' option types disagree (sql.js's `database`
 * is a Uint8Array, PostgreSQL's a name).
 */
export interface DatabaseOptionsLike {
  readonly type: string;
  readonly url?: unknown;
  readonly host?: unknown;
  readonly port?: unknown;
  readonly database?: unknown;
}

// TypeORM's `type` → the semantic conventions' `db.system.name` (OpenTelemetry
// semantic conventions, database spans: "db.system.name" well-known values).
const SYSTEMS: Readonly<Record<string, string>> = {
  postgres: 'postgresql',
  'aurora-postgres': 'postgresql',
  cockroachdb: 'cockroachdb',
  mysql: 'mysql',
  'aurora-mysql': 'mysql',
  mariadb: 'mariadb',
  sqlite: 'sqlite',
  'better-sqlite3': 'sqlite',
  sqljs: 'sqlite',
  capacitor: 'sqlite',
  cordova: 'sqlite',
  expo: 'sqlite',
  nativescript: 'sqlite',
  'react-native': 'sqlite',
  mssql: 'microsoft.sql_server',
  oracle: 'oracle.db',
  sap: 'sap.hana',
  spanner: 'gcp.spanner',
};

const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  postgresql: 5432,
  cockroachdb: 26257,
  mysql: 3306,
  mariadb: 3306,
  'microsoft.sql_server': 1433,
  'oracle.db': 1521,
};

/** `db.system.name` of a TypeORM driver type; `other_sql` for one not listed. */
export function databaseSystemOf(type: string): string {
  return SYSTEMS[type] ?? 'other_sql';
}

function textOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function portOf(value: unknown): number | undefined {
  const port = typeof value === 'string' ? Number(value) : value;
  return typeof port === 'number' && Number.isInteger(port) && port > 0 ? port : undefined;
}

/**
 * The attributes every query of a DataSource shares: the system, the
 * database (`db.namespace`) and, for a networked one, `server.address` and
 * `server.port`. Never the user or password of a connection URL.
 */
export function connectionAttributes(options: DatabaseOptionsLike): Attributes {
  const system = databaseSystemOf(options.type);
  const attributes: Attributes = { 'db.system.name': system, 'db.system': system };
  if (system === 'sqlite') {
    // The name SQLite gives the connection's own database (the one not ATTACHed).
    attributes['db.namespace'] = 'main';
    return attributes;
  }
  let host = textOf(options.host);
  let port = portOf(options.port);
  let database = textOf(options.database);
  // TypeORM lets the URL's parts win over the separate options.
  const url = textOf(options.url);
  if (url) {
    try {
      const parsed = new URL(url);
      host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || host;
      port = portOf(parsed.port) ?? port;
      database = textOf(decodeURIComponent(parsed.pathname.replace(/^\//, ''))) ?? database;
    } catch {
      // An unparsable URL fails the connection itself; the span just lacks the server.
    }
  }
  if (database) attributes['db.namespace'] = database;
  if (host) {
    attributes['server.address'] = host;
    const serverPort = port ?? DEFAULT_PORTS[system];
    if (serverPort !== undefined) attributes['server.port'] = serverPort;
  }
  return attributes;
}

// Skipped before the first keyword: whitespace, `/* … */` and `-- …` comments.
const LEADING_NOISE = /^(?:\s+|\/\*[\s\S]*?\*\/|--[^\n]*(?:\n|$))*/;
const IDENTIFIER = String.raw`(?:"(?:[^"]|"")+"|\x60[^\x60]+\x60|\[[^\]]+\]|[A-Za-z_][\w$]*)`;
const QUALIFIED = `${IDENTIFIER}(?:\\s*\\.\\s*${IDENTIFIER})*`;
const TARGETS: Readonly<Record<string, RegExp>> = {
  SELECT: new RegExp(`\\bFROM\\s+(${QUALIFIED})`, 'i'),
  DELETE: new RegExp(`\\bFROM\\s+(${QUALIFIED})`, 'i'),
  INSERT: new RegExp(`\\bINTO\\s+(${QUALIFIED})`, 'i'),
  REPLACE: new RegExp(`\\bINTO\\s+(${QUALIFIED})`, 'i'),
  UPDATE: new RegExp(`^UPDATE\\s+(?:ONLY\\s+)?(${QUALIFIED})`, 'i'),
};

function unquoted(name: string): string {
  return name.replace(/"((?:[^"]|"")+)"|\x60([^\x60]+)\x60|\[([^\]]+)\]/g, (_all, a, b, c) =>
    String(a ?? b ?? c).replace(/""/g, '"'),
  );
}

/**
 * `db.operation.name` and `db.collection.name` as read from the statement:
 * its first keyword, and the first table a SELECT, INSERT, UPDATE or DELETE
 * names (semantic conventions: "the first operation/collection name found in
 * the query"). A statement that starts otherwise (a CTE, a subquery) has no
 * collection.
 */
export function operationOf(query: string): { operation?: string; collection?: string } {
  const statement = query.replace(LEADING_NOISE, '');
  const keyword = /^[A-Za-z]+/.exec(statement)?.[0].toUpperCase();
  if (!keyword) return {};
  const target = TARGETS[keyword]?.exec(statement)?.[1];
  return target ? { operation: keyword, collection: unquoted(target) } : { operation: keyword };
}

// Quoted identifiers are kept as they are; string and number literals become `?`.
const LITERALS =
  /("(?:[^"]|"")*"|\x60[^\x60]*\x60)|'(?:[^'\\]|\\[\s\S]|'')*'|\$([A-Za-z_]\w*)?\$[\s\S]*?\$\2\$|(?<![\w$.])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b/g;

/**
 * The statement as `db.query.text` carries it: its `$1`/`?` placeholders
 * kept, its string and number literals replaced by `?`. TypeORM passes most
 * values as parameters but writes some into the text itself (an UPDATE's
 * numbers: `SET "word_count" = 3`), and a raw `query()` may hold any
 * (semantic conventions: "db.query.text … sanitized" by replacing literals).
 */
export function queryTextOf(query: string): string {
  return query.replace(LITERALS, (all, identifier: string | undefined) => identifier ?? '?');
}

/** The span name of a query: `{operation} {collection or database}`, else the system. */
export function spanNameOf(
  operation: string | undefined,
  target: string | undefined,
  system: string,
): string {
  if (!operation) return system;
  return target ? `${operation} ${target}` : operation;
}

/**
 * `error.type` and `db.response.status_code` of a failed query, without its
 * message: a driver's message may quote the values (MySQL's "Duplicate entry
 * 'x'", PostgreSQL's "invalid input syntax for type uuid: \"x\"").
 */
export function errorAttributes(error: unknown, system: string): Attributes {
  const { code, errno, name } = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    errno?: unknown;
    name?: unknown;
  };
  const attributes: Attributes = {};
  // PostgreSQL's code is its SQLSTATE; MySQL's and MariaDB's status is the errno.
  const status =
    system === 'mysql' || system === 'mariadb'
      ? typeof errno === 'number'
        ? String(errno)
        : undefined
      : typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)
        ? code
        : undefined;
  if (status) attributes['db.response.status_code'] = status;
  attributes['error.type'] =
    status ??
    (typeof code === 'string' && code !== '' ? code : undefined) ??
    (typeof name === 'string' && name !== '' ? name : 'Error');
  return attributes;
}
