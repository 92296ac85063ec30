import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uniqueServiceName } from '../support/essay-service.js';
import {
  ensureBuilt,
  SHUTDOWN_TEST_APP,
  spawnEssayService,
  type EssayServiceProcess,
} from '../support/essay-service-process.js';
import { MisbehavingServer } from '../support/misbehaving-server.js';
import { NATS_URL } from '../support/nats.js';
import {
  SpanKind,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../support/otlp-receiver.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { deleteQueue, RABBITMQ_URL } from '../support/rabbitmq.js';

// Tracing must start before the app's modules load, so these tests run the
// built service in a child process with the documented `--import` line,
// exporting OTLP/HTTP JSON to a receiver of their own.
const TRACING_IMPORT = ['--import', 'nestjs-production-readiness/tracing'];
const TRACE_ID = /^[0-9a-f]{32}$/;
const CALLER_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';
const ESSAY = { title: 'Traced', text: 'One request, one trace, from the server to the consumer.' };
// In the title of the essays whose traces are searched for it: a parameter's
// value must never reach a span.
const MARKER = 'marker-9c1e-parameter-value';
const LIBRARY_SCOPE = 'nestjs-production-readiness';
const PG_SCOPE = '@opentelemetry/instrumentation-pg';

interface LogLine {
  msg: string;
  correlationId?: string;
  traceId?: string;
  spanId?: string;
  [field: string]: unknown;
}

function logLines(stdout: string): LogLine[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

function traceIdOfHeader(traceparent: string | undefined): string | undefined {
  return /^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent ?? '')?.[1];
}

/** The library's query spans, one per TypeORM query, whatever the driver. */
function databaseSpans(spans: ReceivedSpan[]): ReceivedSpan[] {
  return spans.filter(
    (span) => span.scope === LIBRARY_SCOPE && span.attributes['db.system.name'] !== undefined,
  );
}

/** The span's ancestors within its trace, nearest first. */
function ancestorsOf(span: ReceivedSpan, trace: ReceivedSpan[]): ReceivedSpan[] {
  const ancestors: ReceivedSpan[] = [];
  let current: ReceivedSpan | undefined = span;
  while (current?.parentSpanId) {
    current = trace.find((candidate) => candidate.spanId === current?.parentSpanId);
    if (current) ancestors.push(current);
  }
  return ancestors;
}

describe('tracing on (spawned service, OTLP/HTTP receiver)', () => {
  let receiver: OtlpReceiver;
  let database: TestDatabase;
  const running: EssayServiceProcess[] = [];
  const queues: string[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    receiver = await startOtlpReceiver();
    database = await createTestDatabase('tracing');
  }, 180_000);

  afterEach(async () => {
    await Promise.all(running.splice(0).map((service) => service.kill()));
  });

  afterAll(async () => {
    await receiver?.close();
    await database?.drop();
    await Promise.all(queues.map((queue) => deleteQueue(queue).catch(() => undefined)));
  });

  const spawnTraced = async (
    env: Record<string, string> = {},
    options: { main?: string } = {},
  ): Promise<EssayServiceProcess & { serviceName: string }> => {
    const serviceName = uniqueServiceName('tracing');
    const service = await spawnEssayService({
      ...options,
      nodeArgs: TRACING_IMPORT,
      env: {
        SERVICE_NAME: serviceName,
        DATABASE_URL: database.url,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '50',
        ...env,
      },
    });
    running.push(service);
    return Object.assign(service, { serviceName });
  };

  const traceOf = (traceId: string, serviceName: string) => (spans: ReceivedSpan[]) =>
    spans.filter((span) => span.traceId === traceId && span.serviceName === serviceName);

  describe.each([
    ['the in-process bus', {}],
    ['NATS', { NATS_URL }],
    ['RabbitMQ', { RABBITMQ_URL }],
  ])('POST /essays over %s', (_transport, brokerEnv: Record<string, string>) => {
    it('exports one trace: server, handler, database, publish and consume spans with the right parents', async () => {
      const service = await spawnTraced(brokerEnv);
      if ('RABBITMQ_URL' in brokerEnv) queues.push(service.serviceName);

      const accepted = await service.http.post('/essays').send({ ...ESSAY, title: MARKER });

      expect(accepted.status).toBe(202);
      const traceId = traceIdOfHeader(accepted.headers.traceparent);
      expect(traceId).toMatch(TRACE_ID);
      const inTrace = traceOf(traceId!, service.serviceName);
      const trace = await receiver.waitForSpans((spans) => {
        const found = inTrace(spans);
        const consumer = found.find((span) => span.kind === SpanKind.CONSUMER);
        const consumerQueries = databaseSpans(found).filter(
          (span) => consumer && ancestorsOf(span, found).includes(consumer),
        );
        return consumer && consumerQueries.length > 0 ? found : undefined;
      }, 'the whole trace of POST /essays');

      const server = trace.find((span) => span.kind === SpanKind.SERVER);
      expect(server).toMatchObject({
        name: 'POST /essays',
        attributes: { 'http.route': '/essays' },
      });
      expect(server?.parentSpanId).toBeUndefined();
      const handler = trace.find((span) => span.name === 'EssaysController.submit');
      expect(handler?.parentSpanId).toBe(server?.spanId);

      const queries = databaseSpans(trace);
      const requestQueries = queries.filter((span) => ancestorsOf(span, trace).includes(handler!));
      expect(requestQueries.map((span) => span.name)).toContain('INSERT essays');
      for (const query of queries) {
        expect(query.kind).toBe(SpanKind.CLIENT);
        expect(query.attributes).toMatchObject({
          'db.system.name': 'postgresql',
          'db.system': 'postgresql',
          'db.namespace': database.name,
          'server.address': '127.0.0.1',
          'server.port': 5432,
        });
      }
      // One span per query: pg's instrumentation records nothing under TypeORM's.
      expect(trace.filter((span) => span.scope === PG_SCOPE)).toEqual([]);

      const publish = trace.find((span) => span.kind === SpanKind.PRODUCER);
      expect(publish).toMatchObject({
        name: 'publish essay.submitted',
        attributes: { 'messaging.destination.name': 'essay.submitted' },
      });
      expect(ancestorsOf(publish!, trace)).toContain(handler);
      const consumer = trace.find((span) => span.kind === SpanKind.CONSUMER);
      expect(consumer?.name).toBe('process essay.submitted');
      expect(consumer?.parentSpanId).toBe(publish?.spanId);
      expect(receiver.contentTypes()).toContain('application/json');
      expect(JSON.stringify(trace.map((span) => span.attributes))).not.toContain(MARKER);

      // The consumer's log lines carry the same trace, under the consumer span.
      await expect
        .poll(() =>
          logLines(service.stdout()).find(
            (line) => line.traceId === traceId && line.spanId === consumer?.spanId,
          ),
        )
        .toMatchObject({ correlationId: traceId });
    });
  });

  it('on the embedded database (sql.js), gives every query of POST /essays a database span with the conventions’ attributes', async () => {
    const service = await spawnTraced({ DATABASE_URL: 'sqlite::memory:' });

    const accepted = await service.http.post('/essays').send({ ...ESSAY, title: MARKER });

    expect(accepted.status).toBe(202);
    const traceId = traceIdOfHeader(accepted.headers.traceparent)!;
    const inTrace = traceOf(traceId, service.serviceName);
    const trace = await receiver.waitForSpans((spans) => {
      const found = inTrace(spans);
      const consumer = found.find((span) => span.kind === SpanKind.CONSUMER);
      const isComplete =
        consumer &&
        databaseSpans(found).some((span) => ancestorsOf(span, found).includes(consumer));
      return isComplete ? found : undefined;
    }, 'the trace of POST /essays with its queries, on sql.js');

    const handler = trace.find((span) => span.name === 'EssaysController.submit')!;
    const consumer = trace.find((span) => span.kind === SpanKind.CONSUMER)!;
    const queries = databaseSpans(trace);
    const insert = queries.find((span) => span.name === 'INSERT essays');
    expect(insert).toBeDefined();
    expect(ancestorsOf(insert!, trace)).toContain(handler);
    expect(insert!.attributes).toMatchObject({
      'db.operation.name': 'INSERT',
      'db.collection.name': 'essays',
      'db.query.text': expect.stringMatching(/^INSERT INTO "essays"/) as unknown,
    });
    // The consumer's update of the essay is a query of the same trace.
    expect(
      queries.some(
        (span) =>
          span.attributes['db.operation.name'] === 'UPDATE' &&
          ancestorsOf(span, trace).includes(consumer),
      ),
    ).toBe(true);
    for (const query of queries) {
      expect(query.kind).toBe(SpanKind.CLIENT);
      expect(query.attributes).toMatchObject({
        'db.system.name': 'sqlite',
        'db.system': 'sqlite',
        'db.namespace': 'main',
      });
      expect(query.attributes['server.address']).toBeUndefined();
      expect(query.parentSpanId).toBeDefined();
    }
    expect(JSON.stringify(trace.map((span) => span.attributes))).not.toContain(MARKER);
  });

  it('traces the LanguageTool call: a client span per attempt, the retry as an event, one traceparent sent', async () => {
    const languageTool = await MisbehavingServer.start();
    try {
      languageTool.next({ status: 503 }).always({
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: '{"matches":[]}',
      });
      const service = await spawnTraced({ LANGUAGE_TOOL_URL: languageTool.origin });

      const accepted = await service.http.post('/essays').send(ESSAY);

      const traceId = traceIdOfHeader(accepted.headers.traceparent)!;
      const inTrace = traceOf(traceId, service.serviceName);
      const undici = '@opentelemetry/instrumentation-undici';
      // The consumer span ends after its client spans, so it may come in a later export.
      const trace = await receiver.waitForSpans((spans) => {
        const found = inTrace(spans);
        const isComplete =
          found.filter((span) => span.scope === undici).length >= 2 &&
          found.some((span) => span.kind === SpanKind.CONSUMER);
        return isComplete ? found : undefined;
      }, 'both attempts of the LanguageTool call and the consumer span around them');
      const consumer = trace.find((span) => span.kind === SpanKind.CONSUMER)!;
      const attempts = trace.filter((span) => span.scope === undici);
      expect(attempts.map((span) => span.kind)).toEqual([SpanKind.CLIENT, SpanKind.CLIENT]);
      expect(attempts.map((span) => span.attributes['http.response.status_code']).sort()).toEqual([
        200, 503,
      ]);
      for (const attempt of attempts) expect(ancestorsOf(attempt, trace)).toContain(consumer);
      expect(trace.flatMap((span) => span.events)).toContain('retry');

      // Each attempt sent exactly one traceparent: its own client span's.
      expect(languageTool.requests).toHaveLength(2);
      const sentParents = languageTool.requests.map((request) => request.headers.traceparent);
      for (const traceparent of sentParents) {
        expect(traceIdOfHeader(traceparent as string)).toBe(traceId);
      }
      expect(
        sentParents.map((traceparent) => (traceparent as string).split('-')[2]).sort(),
      ).toEqual(attempts.map((span) => span.spanId).sort());
    } finally {
      await languageTool.close();
    }
  });

  it('continues an inbound traceparent and keeps its trace id as the correlation id', async () => {
    const service = await spawnTraced();

    const response = await service.http
      .get('/essays/00000000-0000-4000-8000-000000000000')
      .set('traceparent', `00-${CALLER_TRACE_ID}-${CALLER_SPAN_ID}-01`);

    expect(response.status).toBe(404);
    expect(response.headers['x-correlation-id']).toBe(CALLER_TRACE_ID);
    expect(traceIdOfHeader(response.headers.traceparent)).toBe(CALLER_TRACE_ID);
    const [server] = await receiver.waitForSpans((spans) => {
      const found = traceOf(
        CALLER_TRACE_ID,
        service.serviceName,
      )(spans).filter((span) => span.kind === SpanKind.SERVER);
      return found.length > 0 ? found : undefined;
    }, 'the server span of the continued trace');
    expect(server).toMatchObject({ name: 'GET /essays/:id', parentSpanId: CALLER_SPAN_ID });
    expect(response.headers.traceparent).toContain(server.spanId);
  });

  it('keeps a client X-Correlation-ID as the correlation id, beside the trace id', async () => {
    const service = await spawnTraced();

    const response = await service.http
      .get('/essays/not-a-uuid')
      .set('x-correlation-id', 'client-id-1');

    expect(response.status).toBe(400);
    expect(response.headers['x-correlation-id']).toBe('client-id-1');
    const traceId = traceIdOfHeader(response.headers.traceparent);
    expect(traceId).toMatch(TRACE_ID);
    expect(response.body).toMatchObject({ correlationId: 'client-id-1', traceId });
  });

  it.each(['express', 'fastify'])(
    'on %s, the problem+json body, the log lines and the OpenMetrics exemplar carry the one trace id',
    async (adapter) => {
      const service = await spawnTraced({ TEST_ADAPTER: adapter }, { main: SHUTDOWN_TEST_APP });

      const failed = await service.http.get('/essays/not-a-uuid');

      expect(failed.status).toBe(400);
      const traceId = traceIdOfHeader(failed.headers.traceparent);
      expect(traceId).toMatch(TRACE_ID);
      expect(failed.headers['x-correlation-id']).toBe(traceId);
      expect(failed.body).toMatchObject({ correlationId: traceId, traceId });

      await expect
        .poll(() =>
          logLines(service.stdout())
            .filter((line) => line.traceId === traceId)
            .map((line) => line.msg),
        )
        .toEqual(expect.arrayContaining(['Request failed', 'request completed']));
      for (const line of logLines(service.stdout()).filter((l) => l.traceId === traceId)) {
        expect(line.correlationId).toBe(traceId);
        expect(line.spanId).toMatch(/^[0-9a-f]{16}$/);
      }

      const [server] = await receiver.waitForSpans((spans) => {
        const found = traceOf(
          traceId!,
          service.serviceName,
        )(spans).filter((span) => span.kind === SpanKind.SERVER);
        return found.length > 0 ? found : undefined;
      }, `the ${adapter} server span`);
      expect(server).toMatchObject({
        name: 'GET /essays/:id',
        attributes: { 'http.route': '/essays/:id', 'http.response.status_code': 400 },
      });

      const openMetrics = await service.http
        .get('/metrics')
        .set('accept', 'application/openmetrics-text; version=1.0.0');
      expect(openMetrics.text).toMatch(
        new RegExp(
          `^http_request_duration_seconds_bucket\\{[^}]*route="/essays/:id",status_code="400"[^}]*\\} 1 # \\{trace_id="${traceId}"\\} [0-9.e-]+ [0-9.]+$`,
          'm',
        ),
      );
      const text = await service.http.get('/metrics');
      expect(text.text).not.toContain('trace_id');
    },
  );

  it('exports the spans still buffered during the graceful shutdown', async () => {
    // A minute's delay: only the shutdown's flush can send the span in time.
    const service = await spawnTraced({
      OTEL_BSP_SCHEDULE_DELAY: '60000',
      SHUTDOWN_DRAIN_DELAY_MS: '0',
    });
    const response = await service.http.get('/essays/00000000-0000-4000-8000-000000000001');
    const traceId = traceIdOfHeader(response.headers.traceparent)!;

    const exit = await service.kill('SIGTERM');

    expect(exit.code).toBe(0);
    const inTrace = traceOf(traceId, service.serviceName);
    expect(inTrace(receiver.spans()).map((span) => span.name)).toContain('GET /essays/:id');
  });
});
