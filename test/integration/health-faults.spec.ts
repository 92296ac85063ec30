import type { INestApplication } from '@nestjs/common';
import type { HealthOptions } from 'nestjs-production-readiness';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapturedEssayService } from '../support/captured-essay-service.js';
import { uniqueServiceName } from '../support/essay-service.js';
import { LogCapture } from '../support/log-capture.js';
import { NATS_URL } from '../support/nats.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startRedisServer, type PrivateRedis } from '../support/redis-server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

// Trust auth ignores them, but they are in the URLs, so they must never reach a report.
const DATABASE_PASSWORD = 'db-Pa55word-never-shown';
const REDIS_PASSWORD = 'redis-Pa55word-never-shown';

// Behaviour bounds, with slack for a loaded 2-core machine (not performance claims).
const DETECTION_SLACK_MS = 400;
const HEALTHZ_MARGIN_MS = 400;
const LIVENESS_BOUND_MS = 150;
// The essay service sweeps pending essays once, 1 s after bootstrap: a database
// query the storm counts must not include.
const FIRST_SWEEP_SETTLED_MS = 1_500;

/** Fast checks so each fault is detected in half a second. */
const SHORT: Required<Pick<HealthOptions, 'checkTimeoutMs' | 'cacheTtlMs'>> = {
  checkTimeoutMs: 300,
  cacheTtlMs: 200,
};
/** The defaults: 1000 ms timeout, 1000 ms cache. */
const DEFAULTS = { checkTimeoutMs: 1_000, cacheTtlMs: 1_000 };

interface CheckBody {
  status: string;
  required?: boolean;
  responseTimeMs?: number;
  error?: string;
}
interface ReportBody {
  status: 'pass' | 'warn' | 'fail';
  reason?: string;
  checks: Record<string, CheckBody>;
}
interface Probe {
  status: number;
  body: ReportBody;
  text: string;
  contentType: string | null;
  ms: number;
}

interface HealthApp {
  app: INestApplication;
  baseUrl: string;
  logs: LogCapture;
  bootstrappedAt: number;
  probe(path: string): Promise<Probe>;
  close(): Promise<void>;
}

let database: TestDatabase;
let postgresProxy: TcpProxy;
let redis: PrivateRedis;
/** PostgreSQL through the proxy, with a password in the URL. */
let databaseUrl: string;

beforeAll(async () => {
  [database, redis] = await Promise.all([
    createTestDatabase('health_faults'),
    startRedisServer({ password: REDIS_PASSWORD }),
  ]);
  const target = new URL(database.url);
  postgresProxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const url = new URL(postgresProxy.urlFor(database.url));
  url.password = DATABASE_PASSWORD;
  databaseUrl = url.toString();
});

afterAll(async () => {
  await postgresProxy?.close();
  await redis?.stop();
  await database?.drop();
});

/** The sample app with these health options, on PostgreSQL (proxied), the private Redis and NATS. */
async function startHealthApp(health: HealthOptions): Promise<HealthApp> {
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    NATS_URL,
    SERVICE_NAME: uniqueServiceName('health'),
    ESSAY_REDELIVERY_INTERVAL_MS: '600000',
  };
  const { app, logs, baseUrl, close } = await startCapturedEssayService({
    env,
    readiness: { health },
    listen: true,
  });
  // Taken once listening, a few ms after the bootstrap the first sweep counts from:
  // a wait measured from it is never shorter than meant.
  const bootstrappedAt = performance.now();
  return {
    app,
    baseUrl,
    logs,
    bootstrappedAt,
    probe: async (path) => {
      const startedAt = performance.now();
      const response = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(10_000) });
      const text = await response.text();
      return {
        status: response.status,
        body: JSON.parse(text) as ReportBody,
        text,
        contentType: response.headers.get('content-type'),
        ms: performance.now() - startedAt,
      };
    },
    close,
  };
}

/** One app per describe, closed before the next starts (Nest's Logger is process-wide). */
function useHealthApp(health: HealthOptions): { current: HealthApp } {
  const holder = {} as { current: HealthApp };
  beforeAll(async () => {
    holder.current = await startHealthApp(health);
  });
  afterAll(async () => {
    await holder.current?.close();
  });
  return holder;
}

/**
 * Polls `path` every 20 ms until `accept` holds; returns the time from
 * `sinceMs` (the fault injection) to that answer, and the answer. Gives up
 * `giveUpMs` after `sinceMs`.
 */
async function timeUntil(
  app: HealthApp,
  path: string,
  accept: (probe: Probe) => boolean,
  sinceMs: number,
  giveUpMs: number,
): Promise<{ elapsedMs: number; probe: Probe }> {
  let last: Probe | undefined;
  while (performance.now() - sinceMs < giveUpMs) {
    last = await app.probe(path);
    if (accept(last)) return { elapsedMs: performance.now() - sinceMs, probe: last };
    await sleep(20);
  }
  throw new Error(
    `${path} did not change within ${giveUpMs} ms; last answer ${last?.status}: ${last?.text}`,
  );
}

/**
 * /livez answers 200 five times in a row while /healthz may be waiting on a
 * dependency, and does not wait with it: the median is under the bound. (One
 * slow answer under a loaded CI machine is the scheduler, not a dependency;
 * every answer must still come well within a second.)
 */
async function expectLivenessFast(app: HealthApp): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const live = await app.probe('/livez');
    expect(live.status).toBe(200);
    expect(live.body.status).toBe('pass');
    expect(live.ms).toBeLessThan(1_000);
    times.push(live.ms);
  }
  const median = [...times].sort((a, b) => a - b)[2];
  expect(median).toBeLessThan(LIVENESS_BOUND_MS);
}

/** Nothing of the secret URLs (host:port, port, passwords) appears in a report. */
function expectNoSecrets(text: string): void {
  for (const secret of [
    postgresProxy.address,
    `:${postgresProxy.port}`,
    DATABASE_PASSWORD,
    redis.address,
    `:${redis.port}`,
    REDIS_PASSWORD,
  ]) {
    expect(text).not.toContain(secret);
  }
}

interface FaultExpectations {
  check: string;
  timings: { checkTimeoutMs: number; cacheTtlMs: number };
  /** The sanitized error /healthz shows, or a pattern of it. */
  error: RegExp;
  /** Time allowed from healing to ready again. */
  recoveryMs: number;
}

/**
 * Injects a fault and follows it through: /readyz 503 within one cache
 * interval plus the timeout; /livez fast all along; /healthz within its
 * deadline, naming the check down with a sanitized error; ready again after
 * healing, without a restart.
 */
async function followFault(
  app: HealthApp,
  inject: () => Promise<void>,
  heal: () => Promise<void>,
  expected: FaultExpectations,
): Promise<void> {
  const { checkTimeoutMs, cacheTtlMs } = expected.timings;
  expect((await app.probe('/readyz')).status).toBe(200);

  const injectedAt = performance.now();
  await inject();
  let isHealed = false;
  try {
    const unready = await timeUntil(
      app,
      '/readyz',
      (probe) => probe.status === 503,
      injectedAt,
      10_000,
    );
    expect(unready.elapsedMs).toBeLessThan(cacheTtlMs + checkTimeoutMs + DETECTION_SLACK_MS);
    expect(unready.probe.body).toMatchObject({
      status: 'fail',
      checks: { [expected.check]: { status: 'down' } },
    });
    expect(unready.probe.contentType).toMatch(/^application\/health\+json/);

    // Once the cached failure is stale, /healthz runs the checks again and may
    // wait for a whole check timeout; liveness must not wait with it.
    await sleep(cacheTtlMs + 20);
    const health = app.probe('/healthz');
    await expectLivenessFast(app);
    const report = await health;
    expect(report.status).toBe(503);
    expect(report.ms).toBeLessThan(checkTimeoutMs + HEALTHZ_MARGIN_MS);
    expect(report.body.status).toBe('fail');
    expect(report.body.checks[expected.check]).not.toHaveProperty('cached');
    expect(report.body.checks[expected.check]).toMatchObject({
      status: 'down',
      required: true,
      responseTimeMs: expect.any(Number) as unknown,
      error: expect.stringMatching(expected.error) as unknown,
    });
    expect(report.body.checks.broker?.status).toBe('up');
    expectNoSecrets(report.text);

    const healedAt = performance.now();
    await heal();
    isHealed = true;
    const ready = await timeUntil(
      app,
      '/readyz',
      (probe) => probe.status === 200,
      healedAt,
      expected.recoveryMs,
    );
    expect(ready.probe.body.status).toBe('pass');
    console.info(
      `${expected.check} fault: 503 after ${unready.elapsedMs.toFixed(0)} ms, ` +
        `/healthz in ${report.ms.toFixed(0)} ms (${report.body.checks[expected.check]?.error}), ` +
        `ready again ${ready.elapsedMs.toFixed(0)} ms after healing`,
    );
  } finally {
    // A failed assertion must not leave the fault in place for the next test.
    if (!isHealed) await heal();
  }
}

/**
 * 300 concurrent /readyz; counts the queries that reached the dependencies:
 * PINGs by the private redis-server's own count, PostgreSQL requests as the
 * data chunks the proxy passed (one per query on a warm pool).
 */
async function storm(app: HealthApp, cacheTtlMs: number): Promise<void> {
  const settledAt = app.bootstrappedAt + FIRST_SWEEP_SETTLED_MS;
  if (performance.now() < settledAt) await sleep(settledAt - performance.now());
  // Warm: the pool holds a connection, so a query is one chunk, not a handshake.
  expect((await app.probe('/readyz')).status).toBe(200);
  // Then let that result expire, so the storm itself has to reach the dependencies.
  await sleep(cacheTtlMs + 50);

  const pingsBefore = await redis.commandCalls('ping');
  const chunksBefore = postgresProxy.chunksUp;
  const acceptedBefore = postgresProxy.accepted;
  const startedAt = performance.now();
  const probes = await Promise.all(Array.from({ length: 300 }, () => app.probe('/readyz')));
  const elapsedMs = performance.now() - startedAt;
  const pings = (await redis.commandCalls('ping')) - pingsBefore;
  const queries = postgresProxy.chunksUp - chunksBefore;
  const intervals = Math.ceil(elapsedMs / cacheTtlMs);

  expect(probes.map((probe) => probe.status)).toEqual(Array.from({ length: 300 }, () => 200));
  expect(pings).toBeGreaterThanOrEqual(1);
  expect(pings).toBeLessThanOrEqual(intervals + 1);
  expect(queries).toBeGreaterThanOrEqual(1);
  expect(queries).toBeLessThanOrEqual(intervals + 1);
  expect(postgresProxy.accepted - acceptedBefore).toBe(0);
  console.info(
    `probe storm (cache ${cacheTtlMs} ms): 300 /readyz in ${elapsedMs.toFixed(0)} ms; ` +
      `${pings} PING, ${queries} PostgreSQL request(s) for ${intervals} interval(s)`,
  );
}

describe(`faults with short checks (timeout ${SHORT.checkTimeoutMs} ms, cache ${SHORT.cacheTtlMs} ms)`, () => {
  const app = useHealthApp({ ...SHORT });

  it('checks database, redis and broker, all up', async () => {
    const ready = await app.current.probe('/readyz');

    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({
      database: { status: 'up' },
      redis: { status: 'up' },
      broker: { status: 'up' },
    });
  });

  it('a probe storm costs at most one PING and one query per cache interval', async () => {
    await storm(app.current, SHORT.cacheTtlMs);
  });

  it('redis killed, then restarted on the same port', async () => {
    await followFault(
      app.current,
      () => redis.kill(),
      () => redis.restart(),
      {
        check: 'redis',
        timings: SHORT,
        error: /^connection (reconnecting|connecting|close|end)$/,
        // ioredis retries with backoff up to 2 s between attempts.
        recoveryMs: 2_000 + SHORT.cacheTtlMs + 2_000,
      },
    );
  });

  it('PostgreSQL refusing connections (proxy refuse)', async () => {
    await followFault(
      app.current,
      () => postgresProxy.setMode('refuse'),
      () => postgresProxy.setMode('forward'),
      {
        check: 'database',
        timings: SHORT,
        error: /ECONNREFUSED|Connection terminated|terminated unexpectedly/,
        recoveryMs: 3_000,
      },
    );
  });

  it('PostgreSQL accepting but never answering (proxy blackhole)', async () => {
    await followFault(
      app.current,
      () => postgresProxy.setMode('blackhole'),
      () => postgresProxy.setMode('forward'),
      {
        check: 'database',
        timings: SHORT,
        error: new RegExp(`^timeout of ${SHORT.checkTimeoutMs}ms exceeded$`),
        recoveryMs: 3_000,
      },
    );
  });
});

describe('an optional redis (optionalChecks: [redis])', () => {
  const app = useHealthApp({ ...SHORT, optionalChecks: ['redis'] });

  it('redis down: /readyz 200 with redis degraded, /healthz warn; up again after a restart', async () => {
    const injectedAt = performance.now();
    await redis.kill();

    const degraded = await timeUntil(
      app.current,
      '/readyz',
      (probe) => probe.body.checks.redis?.status === 'degraded',
      injectedAt,
      10_000,
    );
    expect(degraded.elapsedMs).toBeLessThan(
      SHORT.cacheTtlMs + SHORT.checkTimeoutMs + DETECTION_SLACK_MS,
    );
    expect(degraded.probe.status).toBe(200);
    expect(degraded.probe.body).toMatchObject({
      status: 'warn',
      checks: {
        database: { status: 'up' },
        redis: { status: 'degraded' },
        broker: { status: 'up' },
      },
    });
    const health = await app.current.probe('/healthz');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('warn');
    expect(health.body.checks.redis).toMatchObject({
      status: 'degraded',
      required: false,
      error: expect.any(String) as unknown,
    });
    expectNoSecrets(health.text);
    await expectLivenessFast(app.current);
    const metrics = { text: await (await fetch(`${app.current.baseUrl}/metrics`)).text() };
    expect(metrics.text).toMatch(
      /^health_check_up\{check="redis",required="false",service="[^"]+"\} 0$/m,
    );
    expect(metrics.text).toMatch(
      /^health_check_up\{check="database",required="true",service="[^"]+"\} 1$/m,
    );

    const healedAt = performance.now();
    await redis.restart();
    const recovered = await timeUntil(
      app.current,
      '/readyz',
      (probe) => probe.body.status === 'pass',
      healedAt,
      6_000,
    );
    expect(recovered.probe.body.checks.redis).toEqual({ status: 'up' });
  });
});

describe('the defaults (timeout 1000 ms, cache 1000 ms)', () => {
  const app = useHealthApp({});

  it('a probe storm costs at most one PING and one query per cache interval', async () => {
    await storm(app.current, DEFAULTS.cacheTtlMs);
  });

  it('PostgreSQL accepting but never answering (proxy blackhole)', async () => {
    await followFault(
      app.current,
      () => postgresProxy.setMode('blackhole'),
      () => postgresProxy.setMode('forward'),
      {
        check: 'database',
        timings: DEFAULTS,
        error: /^timeout of 1000ms exceeded$/,
        recoveryMs: 3_000,
      },
    );
  });
});
