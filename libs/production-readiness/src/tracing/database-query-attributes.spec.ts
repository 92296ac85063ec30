import { describe, expect, it } from 'vitest';
import {
  connectionAttributes,
  errorAttributes,
  operationOf,
  queryTextOf,
  spanNameOf,
} from './database-query-attributes.js';

describe('connectionAttributes', () => {
  it('reads PostgreSQL from its URL, without the credentials', () => {
    const attributes = connectionAttributes({
      type: 'postgres',
      url: 'postgres://app:hunter2@db.internal:6543/essays?sslmode=require',
    });

    expect(attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.system': 'postgresql',
      'db.namespace': 'essays',
      'server.address': 'db.internal',
      'server.port': 6543,
    });
    expect(JSON.stringify(attributes)).not.toMatch(/hunter2|app:/);
  });

  it('reads MariaDB from its separate options, with the default port', () => {
    expect(connectionAttributes({ type: 'mariadb', host: '127.0.0.1', database: 'test' })).toEqual({
      'db.system.name': 'mariadb',
      'db.system': 'mariadb',
      'db.namespace': 'test',
      'server.address': '127.0.0.1',
      'server.port': 3306,
    });
  });

  it('lets the URL’s parts win over the separate options, as TypeORM does', () => {
    expect(
      connectionAttributes({
        type: 'mysql',
        url: 'mysql://root@[::1]/shop',
        host: 'x',
        port: 3307,
      }),
    ).toMatchObject({ 'db.namespace': 'shop', 'server.address': '::1', 'server.port': 3307 });
  });

  it.each(['sqljs', 'sqlite', 'better-sqlite3'])(
    'gives %s SQLite’s name of its database and no server',
    (type) => {
      expect(connectionAttributes({ type, database: new Uint8Array() })).toEqual({
        'db.system.name': 'sqlite',
        'db.system': 'sqlite',
        'db.namespace': 'main',
      });
    },
  );

  it('names an unknown SQL driver other_sql', () => {
    expect(connectionAttributes({ type: 'newsql' })['db.system.name']).toBe('other_sql');
  });
});

describe('operationOf', () => {
  it.each([
    ['INSERT INTO "essays"("id", "title") VALUES ($1, $2)', 'INSERT', 'essays'],
    [
      'SELECT "Essay"."id" AS "Essay_id" FROM "essays" "Essay" WHERE "Essay"."id" IN ($1)',
      'SELECT',
      'essays',
    ],
    ['UPDATE `essays` SET `status` = ? WHERE `id` = ?', 'UPDATE', 'essays'],
    [
      'DELETE FROM "public"."idempotency_keys" WHERE "expires_at" < $1',
      'DELETE',
      'public.idempotency_keys',
    ],
    ['/* typeorm */ -- note\n select 1', 'SELECT', undefined],
    ['START TRANSACTION', 'START', undefined],
    ['COMMIT', 'COMMIT', undefined],
    ['SELECT * FROM (SELECT 1) AS "t"', 'SELECT', undefined],
  ])('%s → %s %s', (query, operation, collection) => {
    expect(operationOf(query)).toEqual({
      operation,
      ...(collection !== undefined && { collection }),
    });
  });

  it('finds nothing in a statement without a keyword', () => {
    expect(operationOf('  ')).toEqual({});
  });
});

describe('queryTextOf', () => {
  it('keeps the placeholders of a parameterized statement, and its identifiers', () => {
    const query = 'INSERT INTO "essays"("title", "t2") VALUES ($1, $2), (?, ?)';

    expect(queryTextOf(query)).toBe(query);
  });

  it('replaces the values TypeORM writes into the text: an UPDATE’s numbers', () => {
    expect(
      queryTextOf(
        'UPDATE "essays" SET "word_count" = 3, "readability_score" = 119.2, "status" = ? WHERE ("id" = ?)',
      ),
    ).toBe(
      'UPDATE "essays" SET "word_count" = ?, "readability_score" = ?, "status" = ? WHERE ("id" = ?)',
    );
  });

  it('replaces string, dollar-quoted and number literals, not quoted identifiers', () => {
    expect(
      queryTextOf(
        `SELECT "t1"."id" FROM "essays" "t1" WHERE "title" = 'it''s secret' AND "n" > 42 AND "x" = $tag$raw$tag$ LIMIT 1`,
      ),
    ).toBe('SELECT "t1"."id" FROM "essays" "t1" WHERE "title" = ? AND "n" > ? AND "x" = ? LIMIT ?');
  });

  it('handles MySQL’s backslash escapes and backquoted names', () => {
    expect(queryTextOf("SELECT * FROM `t 1` WHERE a = 'x\\'y' OR b = -1.5e3")).toBe(
      'SELECT * FROM `t 1` WHERE a = ? OR b = ?',
    );
  });
});

describe('spanNameOf', () => {
  it('is the operation and its target, else the operation, else the system', () => {
    expect(spanNameOf('SELECT', 'essays', 'postgresql')).toBe('SELECT essays');
    expect(spanNameOf('COMMIT', undefined, 'postgresql')).toBe('COMMIT');
    expect(spanNameOf(undefined, 'essays', 'sqlite')).toBe('sqlite');
  });
});

describe('errorAttributes', () => {
  it('gives PostgreSQL’s SQLSTATE, never the message', () => {
    const error = Object.assign(new Error('invalid input syntax for type uuid: "secret"'), {
      code: '22P02',
    });

    const attributes = errorAttributes(error, 'postgresql');

    expect(attributes).toEqual({ 'db.response.status_code': '22P02', 'error.type': '22P02' });
    expect(JSON.stringify(attributes)).not.toContain('secret');
  });

  it('gives MySQL’s errno', () => {
    const error = Object.assign(new Error("Duplicate entry 'secret' for key 'PRIMARY'"), {
      code: 'ER_DUP_ENTRY',
      errno: 1062,
    });

    expect(errorAttributes(error, 'mysql')).toEqual({
      'db.response.status_code': '1062',
      'error.type': '1062',
    });
  });

  it('falls back to the error’s name when the driver gives no code (sql.js)', () => {
    const error = Object.assign(new Error('UNIQUE constraint failed: essays.id'), {
      name: 'QueryFailedError',
    });

    expect(errorAttributes(error, 'sqlite')).toEqual({ 'error.type': 'QueryFailedError' });
  });
});
