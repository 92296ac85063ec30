import { context, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import type * as Core from '@opentelemetry/core';
import {
  connectionAttributes,
  databaseSystemOf,
  errorAttributes,
  operationOf,
  queryTextOf,
  spanNameOf,
  type DatabaseOptionsLike,
} from './database-query-attributes.js';
import { TRACER_NAME } from './message-tracing.js';
import { ownRequire } from './own-require.js';

/** What query tracing uses of a TypeORM QueryRunner. */
export interface QueryRunnerLike {
  query(query: string, parameters?: unknown, ...rest: never[]): Promise<unknown>;
}

/**
 * What query tracing uses of a TypeORM DataSource (typeorm is an optional
 * peer, so its types stay out of the library's declarations). Any TypeORM
 * 0.3 or 1.x DataSource is one.
 */
export interface TraceableDataSource {
  readonly options: DatabaseOptionsLike;
  createQueryRunner(...args: never[]): QueryRunnerLike;
}

// The DataSources and QueryRunners already wrapped, on globalThis under a
// registered symbol: two copies of the library (dist and source) share it and
// never wrap one twice.
const TRACED = Symbol.for('nestjs-production-readiness.traced-database-queries');
const traced: WeakSet<object> = ((
  globalThis as typeof globalThis & {
    [TRACED]?: WeakSet<object>;
  }
)[TRACED] ??= new WeakSet());

/**
 * Gives every query of a TypeORM DataSource a client span, on every driver
 * (sql.js, SQLite, PostgreSQL, MySQL/MariaDB, …): named `SELECT essays`,
 * with the OpenTelemetry database attributes (`db.system.name`,
 * `db.namespace`, `db.operation.name`, `db.collection.name`, `db.query.text`,
 * `server.address`/`server.port` for a networked database), error status and
 * `error.type` on failure. The statement is recorded with its placeholders
 * and its literals replaced by `?`: never a value. Only a query made inside
 * a sampled span (a request, a message) gets one: startup migrations and
 * pollers are no one's trace.
 * The driver's own instrumentation (pg's) records nothing under it, so each
 * query has one span.
 *
 * ProductionReadinessModule does this to the app's default DataSource when
 * tracing is on; call it for another one (a named DataSource, a script's).
 * Returns the DataSource; calling it again changes nothing.
 */
export function traceDatabaseQueries<T extends TraceableDataSource>(dataSource: T): T {
  if (traced.has(dataSource) || dataSource.options.type === 'mongodb') return dataSource;
  traced.add(dataSource);
  const createQueryRunner = dataSource.createQueryRunner.bind(dataSource);
  const connection = connectionAttributes(dataSource.options);
  const system = databaseSystemOf(dataSource.options.type);
  // Loaded here, not at import: an untraced app never loads the SDK's core.
  const { suppressTracing } = ownRequire('@opentelemetry/core') as typeof Core;
  const tracer = trace.getTracer(TRACER_NAME);

  const traceQueries = (queryRunner: QueryRunnerLike): QueryRunnerLike => {
    // sql.js has one QueryRunner for the whole DataSource, handed out again and again.
    if (traced.has(queryRunner)) return queryRunner;
    traced.add(queryRunner);
    const query = queryRunner.query.bind(queryRunner);
    queryRunner.query = (
      statement: string,
      parameters?: unknown,
      ...rest: never[]
    ): Promise<unknown> => {
      const parent = context.active();
      // Outside any span (startup, pollers) or in an unsampled one: nothing to record.
      if (!trace.getSpan(parent)?.isRecording()) return query(statement, parameters, ...rest);
      const { operation, collection } = operationOf(statement);
      const attributes: Attributes = {
        ...connection,
        'db.query.text': queryTextOf(statement),
        ...(operation && { 'db.operation.name': operation }),
        ...(collection && { 'db.collection.name': collection }),
      };
      const span = tracer.startSpan(
        spanNameOf(
          operation,
          collection ?? (connection['db.namespace'] as string | undefined),
          system,
        ),
        { kind: SpanKind.CLIENT, attributes },
        parent,
      );
      // Suppressed inside: pg's instrumentation would record the same query twice.
      const inside = suppressTracing(trace.setSpan(parent, span));
      return context
        .with(inside, () => query(statement, parameters, ...rest))
        .then(
          (result) => {
            span.end();
            return result;
          },
          (error: unknown) => {
            span.setAttributes(errorAttributes(error, system));
            span.setStatus({ code: SpanStatusCode.ERROR });
            span.end();
            throw error;
          },
        );
    };
    return queryRunner;
  };

  dataSource.createQueryRunner = (...args: never[]) => traceQueries(createQueryRunner(...args));
  return dataSource;
}
