import type { INestApplication } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapturedEssayService } from '../support/captured-essay-service.js';
import { uniqueServiceName, type HttpAdapterName } from '../support/essay-service.js';
import { sampleValue } from '../support/exposition.js';
import { LogCapture } from '../support/log-capture.js';
import { startNatsServer, type PrivateNats } from '../support/nats-server.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { deleteQueue, RABBITMQ_URL } from '../support/rabbitmq.js';
import { startRedisServer, type PrivateRedis } from '../support/redis-server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait-for.js';

// In the URLs, so they must never reach a client or a log line.
const DATABASE_PASSWORD = 'db-Pa55word-never-shown';
const API_KEY = 'dependency-faults-key-0123456789';
const ESSAY = { title: 'Cats', text: 'The cat sat on the mat. It was happy!' };
// Behaviour bounds with slack for a loaded 2-core machine, not performance claims.
const SLACK_MS = 1_500;

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  ms: number;
}

interface FaultApp {
  app: INestApplication;
  logs: LogCapture;
  call(
    method: string,
    path: string,
    init?: { body?: unknown; headers?: Record<string, string> },
  ): Promise<Answer>;
  metric(name: string, labels: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

async function startFaultApp(
  adapter: HttpAdapterName,
  env: Record<string, string | undefined>,
): Promise<FaultApp> {
  const { app, logs, baseUrl, close } = await startCapturedEssayService({
    adapter,
    env,
    listen: true,
  });
  const call: FaultApp['call'] = async (method, path, init = {}) => {
    const startedAt = performance.now();
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(init.body !== undefined && { 'content-type': 'application/json' }),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      ms: performance.now() - startedAt,
    };
  };
  return {
    app,
    logs,
    call,
    metric: async (name, labels) => {
      const response = await fetch(`${baseUrl}/metrics`);
      return sampleValue(await response.text(), name, labels);
    },
    close,
  };
}

/**
 * The id of an essay that must be accepted, once it is processed: its
 * processing must not meet the faults the tests cause (a failed message
 * handler is a dependency failure too, counted and logged).
 */
async function acceptedEssay(service: FaultApp, headers?: Record<string, string>): Promise<string> {
  const created = await service.call('POST', '/essays', { body: ESSAY, headers });
  expect(created.status).toBe(202);
  const id = created.body.id as string;
  await waitFor(
    async () => {
      const essay = await service.call('GET', `/essays/${id}`, { headers });
      return essay.body.status === 'processed' ? true : undefined;
    },
    15_000,
    { description: `essay ${id} to be processed before the faults`, intervalMs: 50 },
  );
  return id;
}

/** Heals the proxy, then closes the app and the proxy: nothing outlives its describe. */
async function closeBehindProxy(service?: FaultApp, proxy?: TcpProxy): Promise<void> {
  await proxy?.setMode('forward');
  await service?.close();
  await proxy?.close();
}

/** What a client must see when a dependency failed its request. */
function expectUnavailable(answer: Answer, instance: string): void {
  expect(answer.status).toBe(503);
  expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(answer.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
  const correlationId = answer.headers.get('x-correlation-id');
  expect(correlationId).toBeTruthy();
  expect(answer.body).toMatchObject({
    status: 503,
    code: 'DEPENDENCY_UNAVAILABLE',
    instance,
    correlationId,
  });
  expect(JSON.stringify(answer.body)).not.toMatch(/ECONN|timeout|postgres|redis|SELECT|at \//i);
}

describe.each<HttpAdapterName>(['express', 'fastify'])('PostgreSQL failing, on %s', (adapter) => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let service: FaultApp;
  let essayId: string;
  // The sample app's timeouts, short so the test waits little: a pool
  // connection within 1 s, a statement within 1 s, the client's own bound 1 s after it.
  const ACQUIRE_MS = 1_000;
  const STATEMENT_MS = 1_000;

  beforeAll(async () => {
    database = await createTestDatabase(`dependency_faults_${adapter}`);
    const target = new URL(database.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const url = new URL(proxy.urlFor(database.url));
    url.password = DATABASE_PASSWORD;
    service = await startFaultApp(adapter, {
      DATABASE_URL: url.toString(),
      DATABASE_ACQUIRE_TIMEOUT_MS: String(ACQUIRE_MS),
      DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_MS),
      SERVICE_NAME: uniqueServiceName(`faults-pg-${adapter}`),
      ESSAY_REDELIVERY_INTERVAL_MS: '600000',
    });
    essayId = await acceptedEssay(service);
  });

  afterAll(async () => {
    await closeBehindProxy(service, proxy);
    await database?.drop();
  });

  it('refused: every request that needs it answers 503 problem+json with Retry-After, logged with its cause and counted', async () => {
    const before = await service.metric('dependency_failures_total', { dependency: 'database' });
    const mark = service.logs.mark();
    await proxy.setMode('refuse');
    try {
      const read = await service.call('GET', `/essays/${essayId}`);
      const write = await service.call('POST', '/essays', { body: ESSAY });
      expectUnavailable(read, `/essays/${essayId}`);
      expectUnavailable(write, '/essays');
      // Liveness never depends on the database.
      expect((await service.call('GET', '/livez')).status).toBe(200);
      expect(await service.metric('dependency_failures_total', { dependency: 'database' })).toBe(
        before + 2,
      );
      const failures = service.logs
        .since(mark)
        .filter((line) => line.code === 'DEPENDENCY_UNAVAILABLE');
      // Once per request, at warn, naming the dependency and the driver's cause.
      expect(failures).toHaveLength(2);
      for (const line of failures) {
        expect(line.level).toBe('warn');
        expect(line).toMatchObject({ details: { dependency: 'database' } });
        expect(typeof (line.details as { cause?: unknown }).cause).toBe('string');
        expect(line.stack ?? (line.err as { stack?: unknown } | undefined)?.stack).toBeUndefined();
      }
      expect(service.logs.text).not.toContain(DATABASE_PASSWORD);
    } finally {
      await proxy.setMode('forward');
    }
    await waitFor(
      async () =>
        (await service.call('GET', `/essays/${essayId}`)).status === 200 ? true : undefined,
      15_000,
      { description: 'the essay to be served again once PostgreSQL is back', intervalMs: 200 },
    );
  });

  it('black-holed: every request answers 503 within the database timeouts, none waits longer', async () => {
    await proxy.setMode('blackhole');
    let answers: Answer[];
    try {
      answers = await Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          index % 2 === 0
            ? service.call('GET', `/essays/${essayId}`)
            : service.call('POST', '/essays', { body: ESSAY }),
        ),
      );
    } finally {
      await proxy.setMode('forward');
    }
    for (const answer of answers) {
      expectUnavailable(answer, answer.body.instance as string);
      // A pool connection (opening one into the hole) plus one statement's client bound.
      expect(answer.ms).toBeLessThan(ACQUIRE_MS + STATEMENT_MS + 1_000 + SLACK_MS);
    }
    await waitFor(
      async () =>
        (await service.call('GET', `/essays/${essayId}`)).status === 200 ? true : undefined,
      15_000,
      { description: 'the essay to be served again once the hole heals', intervalMs: 200 },
    );
  });

  it('a bug in a query is still a 500, not a 503', async () => {
    // A schema the code does not expect: the query fails on PostgreSQL's side, reachable and well.
    await database.query('ALTER TABLE essays RENAME COLUMN title TO heading');
    try {
      const answer = await service.call('GET', `/essays/${essayId}`);
      expect(answer.status).toBe(500);
      expect(answer.body).toMatchObject({ code: 'INTERNAL' });
      expect(answer.headers.get('retry-after')).toBeNull();
    } finally {
      await database.query('ALTER TABLE essays RENAME COLUMN heading TO title');
    }
  });
});

describe.each<HttpAdapterName>(['express', 'fastify'])('Redis failing, on %s', (adapter) => {
  let redis: PrivateRedis;
  let proxy: TcpProxy;
  let service: FaultApp;
  let essayId: string;
  const COMMAND_TIMEOUT_MS = 1_000;
  const auth = { 'x-api-key': API_KEY };

  beforeAll(async () => {
    redis = await startRedisServer();
    proxy = await startTcpProxy({ host: redis.host, port: redis.port });
    service = await startFaultApp(adapter, {
      REDIS_URL: `redis://${proxy.address}`,
      REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS),
      API_KEYS: API_KEY,
      SERVICE_NAME: uniqueServiceName(`faults-redis-${adapter}`),
      ESSAY_REDELIVERY_INTERVAL_MS: '600000',
    });
    essayId = await acceptedEssay(service, auth);
  });

  afterAll(async () => {
    await closeBehindProxy(service, proxy);
    await redis?.stop();
  });

  it('refused: a POST with an Idempotency-Key (which needs Redis) answers 503; a valid key is still served', async () => {
    await proxy.setMode('refuse');
    try {
      // ioredis notices the reset and stops writing: commands fail at once.
      await sleep(300);
      const keyed = await service.call('POST', '/essays', {
        body: ESSAY,
        headers: { ...auth, 'idempotency-key': 'refused-1' },
      });
      expectUnavailable(keyed, '/essays');
      expect(keyed.ms).toBeLessThan(COMMAND_TIMEOUT_MS + SLACK_MS);
      const read = await service.call('GET', `/essays/${essayId}`, { headers: auth });
      expect(read.status).toBe(200);
      expect(
        await service.metric('dependency_failures_total', { dependency: 'redis' }),
      ).toBeGreaterThanOrEqual(1);
    } finally {
      await proxy.setMode('forward');
    }
    // Back to normal before the next fault: ioredis reconnects on its own.
    let attempt = 0;
    await waitFor(
      async () => {
        const answer = await service.call('POST', '/essays', {
          body: ESSAY,
          headers: { ...auth, 'idempotency-key': `after-refused-${attempt++}` },
        });
        return answer.status === 202 ? true : undefined;
      },
      15_000,
      { description: 'idempotent POSTs to succeed again once Redis is back', intervalMs: 200 },
    );
  });

  it('black-holed: requests with a valid key do not wait for the failure counts; an idempotent POST answers 503 within the command timeout', async () => {
    await proxy.setMode('blackhole');
    try {
      const reads: Answer[] = [];
      for (let index = 0; index < 8; index++) {
        reads.push(await service.call('GET', `/essays/${essayId}`, { headers: auth }));
      }
      for (const read of reads) {
        expect(read.status).toBe(200);
        // The failure counts are asked for 50 ms at most, then not for a second.
        expect(read.ms).toBeLessThan(50 + 450);
      }
      // A wrong key is still refused, counted in this process meanwhile.
      const wrong = await service.call('GET', `/essays/${essayId}`, {
        headers: { 'x-api-key': 'not-the-key' },
      });
      expect(wrong.status).toBe(401);
      expect(wrong.ms).toBeLessThan(50 + 450);
      const keyed = await service.call('POST', '/essays', {
        body: ESSAY,
        headers: { ...auth, 'idempotency-key': 'blackholed-1' },
      });
      expectUnavailable(keyed, '/essays');
      expect(keyed.ms).toBeLessThan(COMMAND_TIMEOUT_MS + SLACK_MS);
    } finally {
      await proxy.setMode('forward');
    }
  });
});

describe('RabbitMQ black-holed', () => {
  let proxy: TcpProxy;
  let service: FaultApp;
  const serviceName = uniqueServiceName('faults-rabbitmq');

  beforeAll(async () => {
    const target = new URL(RABBITMQ_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5672) });
    service = await startFaultApp('express', {
      RABBITMQ_URL: proxy.urlFor(RABBITMQ_URL),
      SERVICE_NAME: serviceName,
      ESSAY_REDELIVERY_INTERVAL_MS: '2000',
    });
  });

  afterAll(async () => {
    await closeBehindProxy(service, proxy);
    await deleteQueue(serviceName).catch(() => undefined);
  });

  it('POST /essays answers 202 within the publish timeout, and the essay is processed once the broker is back', async () => {
    await proxy.setMode('blackhole');
    let accepted: Answer;
    try {
      accepted = await service.call('POST', '/essays', { body: ESSAY });
    } finally {
      await proxy.setMode('forward');
    }
    expect(accepted.status).toBe(202);
    // The default publishTimeoutMs (2000), not RabbitMQ's heartbeat (10-15 s).
    expect(accepted.ms).toBeLessThan(2_000 + SLACK_MS);
    const id = accepted.body.id as string;
    await waitFor(
      async () => {
        const essay = await service.call('GET', `/essays/${id}`);
        return essay.body.status === 'processed' ? true : undefined;
      },
      45_000,
      { description: `essay ${id} to be processed after the hole heals`, intervalMs: 250 },
    );
  });
});

describe('NATS away for longer than nats.js retries by default', () => {
  let nats: PrivateNats;
  let service: FaultApp;
  // nats.js alone gives up after 10 attempts 2 s apart (about 20 s).
  const OUTAGE_MS = 25_000;

  beforeAll(async () => {
    nats = await startNatsServer();
    service = await startFaultApp('express', {
      NATS_URL: nats.url,
      SERVICE_NAME: uniqueServiceName('faults-nats'),
      // Far away: what is processed after the outage is not the periodic sweep's doing.
      ESSAY_REDELIVERY_INTERVAL_MS: '600000',
    });
    const warmUp = await service.call('POST', '/essays', { body: ESSAY });
    expect(warmUp.status).toBe(202);
  });

  afterAll(async () => {
    await service?.close();
    await nats?.stop();
  });

  it('the consumer reconnects, readiness says so, and essays accepted meanwhile are processed within seconds of its return', async () => {
    await nats.kill();
    const accepted: string[] = [];
    const startedAt = performance.now();
    let readyDuringOutage: number | undefined;
    while (performance.now() - startedAt < OUTAGE_MS) {
      const answer = await service.call('POST', '/essays', { body: ESSAY });
      expect(answer.status).toBe(202);
      accepted.push(answer.body.id as string);
      readyDuringOutage ??= (await service.call('GET', '/readyz')).status;
      await sleep(2_000);
    }
    expect(readyDuringOutage).toBe(503);
    await nats.restart();
    const returnedAt = performance.now();
    await waitFor(
      async () => ((await service.call('GET', '/readyz')).status === 200 ? true : undefined),
      15_000,
      { description: '/readyz to answer 200 once NATS is back', intervalMs: 200 },
    );
    await waitFor(
      async () => {
        for (const id of accepted) {
          const essay = await service.call('GET', `/essays/${id}`);
          if (essay.body.status !== 'processed') return undefined;
        }
        return true;
      },
      20_000,
      {
        description: `the ${accepted.length} essays accepted while NATS was away to be processed`,
        intervalMs: 250,
      },
    );
    expect(performance.now() - returnedAt).toBeLessThan(20_000);
  }, 90_000);
});
