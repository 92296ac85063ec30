import { randomUUID } from 'node:crypto';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { traceDatabaseQueries } from 'nestjs-production-readiness';
import { DataSource, EntitySchema, type DataSourceOptions, type Logger } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createConnection } from 'mysql2/promise';
import type { TestDatabase } from '../support/postgres.js';

// The library's query tracing on real TypeORM DataSources, each driver the
// repository has: sql.js (the embedded default), PostgreSQL and MariaDB (the
// local server on 3306, root without a password, a database of its own), with pg's own
// instrumentation registered as startTracing() registers it. Spans go to an
// in-memory exporter; the queries go to real databases.

interface Note {
  id: string;
  title: string;
}

const Notes = new EntitySchema<Note>({
  name: 'Note',
  tableName: 'notes',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    title: { type: 'varchar', length: 200 },
  },
});

const MARKER = 'marker-7f3a-never-in-a-span';

/** Counts the statements TypeORM runs: its Logger sees each one once, before it runs. */
class StatementCounter implements Logger {
  count = 0;
  logQuery(): void {
    this.count += 1;
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const tracer = provider.getTracer('test');
const PG_SCOPE = '@opentelemetry/instrumentation-pg';
let database: TestDatabase;
let disableInstrumentations: () => void;
const MARIADB = { host: '127.0.0.1', port: 3306, user: 'root' };
const mariaDatabase = `tracing_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

async function onMariaDb(sql: string): Promise<void> {
  const connection = await createConnection(MARIADB);
  try {
    await connection.query(sql);
  } finally {
    await connection.end();
  }
}

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  disableInstrumentations = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [new PgInstrumentation({ requireParentSpan: true })],
  });
  // Loaded after pg's instrumentation, so pg is patched as in a traced service.
  const { createTestDatabase } = await import('../support/postgres.js');
  database = await createTestDatabase('tracing_database');
  // A name of [a-z0-9_] only: an identifier, safe to quote.
  await onMariaDb(`CREATE DATABASE \`${mariaDatabase}\``);
});

afterAll(async () => {
  await database?.drop();
  await onMariaDb(`DROP DATABASE IF EXISTS \`${mariaDatabase}\``);
  disableInstrumentations?.();
  await provider.shutdown();
  trace.disable();
  context.disable();
});

afterEach(() => exporter.reset());

/** Runs `work` inside a root span `request`; returns the spans of its trace below it. */
async function inRequest(work: () => Promise<unknown>): Promise<{
  request: ReadableSpan;
  below: ReadableSpan[];
}> {
  const traceId = await tracer.startActiveSpan('request', async (span) => {
    try {
      await work().catch(() => undefined);
    } finally {
      span.end();
    }
    return span.spanContext().traceId;
  });
  await provider.forceFlush();
  const spans = exporter
    .getFinishedSpans()
    .filter((span) => span.spanContext().traceId === traceId);
  const request = spans.find((span) => span.name === 'request')!;
  return { request, below: spans.filter((span) => span !== request) };
}

const ourSpans = (spans: ReadableSpan[]) =>
  spans.filter((span) => span.instrumentationScope.name === 'nestjs-production-readiness');

describe.each([
  [
    'sql.js (the embedded default)',
    (): DataSourceOptions => ({ type: 'sqljs' }),
    { 'db.system.name': 'sqlite', 'db.system': 'sqlite', 'db.namespace': 'main' },
  ],
  [
    'PostgreSQL',
    (): DataSourceOptions => ({ type: 'postgres', url: database.url }),
    () => ({
      'db.system.name': 'postgresql',
      'db.system': 'postgresql',
      'db.namespace': database.name,
      'server.address': '127.0.0.1',
      'server.port': 5432,
    }),
  ],
  [
    'MariaDB',
    (): DataSourceOptions => ({
      type: 'mariadb',
      host: MARIADB.host,
      port: MARIADB.port,
      username: MARIADB.user,
      database: mariaDatabase,
    }),
    () => ({
      'db.system.name': 'mariadb',
      'db.namespace': mariaDatabase,
      'server.address': '127.0.0.1',
      'server.port': 3306,
    }),
  ],
])('query spans on %s', (_driver, optionsOf, expectedConnection) => {
  let dataSource: DataSource;
  const statements = new StatementCounter();
  const connection = () =>
    typeof expectedConnection === 'function' ? expectedConnection() : expectedConnection;

  beforeAll(async () => {
    dataSource = new DataSource({
      ...optionsOf(),
      entities: [Notes],
      synchronize: true,
      logger: statements,
      logging: true,
    });
    await dataSource.initialize();
    expect(traceDatabaseQueries(dataSource)).toBe(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
  });

  it('gives each query of a request one client span, a child of the active span, with the database attributes', async () => {
    const id = randomUUID();
    const before = statements.count;

    const { request, below } = await inRequest(async () => {
      await dataSource.getRepository(Notes).insert({ id, title: `a title with ${MARKER}` });
      await dataSource.getRepository(Notes).findOneByOrFail({ id });
    });

    const queries = ourSpans(below);
    // One span per statement TypeORM ran, and no second one from pg's instrumentation.
    expect(queries.length).toBe(statements.count - before);
    expect(below).toEqual(queries);
    expect(queries.map((span) => span.name)).toEqual(
      expect.arrayContaining(['INSERT notes', 'SELECT notes']),
    );
    for (const span of queries) {
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
      expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
      expect(span.attributes).toMatchObject({
        ...connection(),
        'db.query.text': expect.any(String) as unknown,
        'db.operation.name': expect.any(String) as unknown,
      });
    }
    const insert = queries.find((span) => span.name === 'INSERT notes')!;
    expect(insert.attributes).toMatchObject({
      'db.operation.name': 'INSERT',
      'db.collection.name': 'notes',
    });
    expect(insert.attributes['db.query.text']).toMatch(
      /INSERT INTO ["`]notes["`].*VALUES \((\$1|\?|DEFAULT)/,
    );
    // The parameters' values are nowhere in any span: not the title, not the id.
    const recorded = JSON.stringify(below.map((span) => [span.attributes, span.events]));
    expect(recorded).not.toContain(MARKER);
    expect(recorded).not.toContain(id);
  });

  it('marks a failed query’s span as an error, with its error type and no message', async () => {
    const isMariaDb = dataSource.options.type === 'mariadb';
    const { below } = await inRequest(() =>
      dataSource.query(
        isMariaDb
          ? 'SELECT `title` FROM `no_such_table` WHERE `title` = ?'
          : 'SELECT "title" FROM "no_such_table" WHERE "title" = $1',
        [MARKER],
      ),
    );

    const [failed] = ourSpans(below);
    expect(ourSpans(below)).toHaveLength(1);
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    // PostgreSQL's SQLSTATE, MariaDB's errno (ER_NO_SUCH_TABLE); sql.js gives none.
    const errorTypes: Record<string, string> = { postgresql: '42P01', mariadb: '1146' };
    expect(failed.attributes['error.type']).toBe(
      errorTypes[String(connection()['db.system.name'])] ?? 'QueryFailedError',
    );
    expect(JSON.stringify([failed.attributes, failed.events, failed.status])).not.toContain(MARKER);
  });

  it('records no span for a query outside any span (a poller, a migration)', async () => {
    await dataSource.query('SELECT 1');
    await provider.forceFlush();

    expect(ourSpans(exporter.getFinishedSpans())).toEqual([]);
  });

  it('wraps once however often it is called', async () => {
    traceDatabaseQueries(dataSource);
    traceDatabaseQueries(dataSource);

    const { below } = await inRequest(() => dataSource.query('SELECT 1'));

    // No table to name: the span is named for the database, as the conventions ask.
    expect(ourSpans(below).map((span) => span.name)).toEqual([
      `SELECT ${String(connection()['db.namespace'])}`,
    ]);
  });
});

describe('pg’s own instrumentation', () => {
  // The control for "no second span": pg's instrumentation is live in this
  // file, so a pg query that does not go through TypeORM gets its span.
  it('still traces a query made with pg directly', async () => {
    const { below } = await inRequest(() => database.query('SELECT 1'));

    expect(below.map((span) => span.instrumentationScope.name)).toContain(PG_SCOPE);
  });
});
