import { Controller, Get, Query } from '@nestjs/common';
import {
  ErrorCode,
  HttpClient,
  isServiceError,
  RequestContext,
  Resilient,
  type ResiliencePolicyOptions,
  type ServiceError,
} from 'nestjs-production-readiness';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sampleValue } from '../support/exposition.js';
import { freePort } from '../support/free-port.js';
import { MisbehavingServer } from '../support/misbehaving-server.js';
import {
  startResilientEssayService,
  type ResilientEssayService,
} from '../support/resilient-essay-service.js';
import { installW3cTracePropagation, withSpan } from '../support/trace-context.js';
import { waitFor } from '../support/wait-for.js';

// Tolerance for timers on a busy 2-core machine, in ms.
const SLACK_MS = 80;

const noBreaker = { circuitBreaker: false, bulkhead: false } as const;

const POLICIES: Record<string, ResiliencePolicyOptions> = {
  jitter: {
    ...noBreaker,
    retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 250, budget: false },
  },
  'retry-after': { ...noBreaker, retry: { maxAttempts: 2, maxDelayMs: 1_500, budget: false } },
  plain: { ...noBreaker, retry: { maxAttempts: 3, baseDelayMs: 10, budget: false } },
  slow: {
    ...noBreaker,
    timeoutMs: 1_000,
    attemptTimeoutMs: 150,
    retry: { maxAttempts: 2, baseDelayMs: 10, budget: false },
  },
  'total-timeout': {
    ...noBreaker,
    timeoutMs: 300,
    attemptTimeoutMs: 300,
    retry: { maxAttempts: 5, baseDelayMs: 10, budget: false },
  },
  budget: {
    ...noBreaker,
    retry: { maxAttempts: 3, baseDelayMs: 1, budget: { maxTokens: 4, tokenRatio: 0.1 } },
  },
  breaker: {
    retry: false,
    bulkhead: false,
    circuitBreaker: {
      windowSize: 4,
      minimumCalls: 4,
      failureRateThreshold: 0.5,
      openDurationMs: 700,
      halfOpenCalls: 2,
    },
  },
  'required-breaker': {
    retry: false,
    circuitBreaker: { windowSize: 2, minimumCalls: 2, openDurationMs: 60_000, required: true },
  },
  bulkhead: { retry: false, circuitBreaker: false, bulkhead: { maxConcurrent: 1, maxQueue: 1 } },
  decorated: { ...noBreaker, retry: { maxAttempts: 3, baseDelayMs: 10, budget: false } },
};

let server: MisbehavingServer;

@Controller('outbound')
class OutboundController {
  constructor(private readonly client: HttpClient) {}

  /** Calls the misbehaving server under `policy`; its failures reach the client as problem+json. */
  @Get()
  async call(@Query('policy') policy: string): Promise<{ status: number }> {
    const response = await this.client.get(`${server.origin}/via-app`, { policy });
    return { status: response.status };
  }

  @Get('decorated')
  @Resilient('decorated', { idempotent: true })
  async decorated(): Promise<{ status: number }> {
    const response = await this.client.get(`${server.origin}/decorated`, { policy: false });
    return { status: response.status };
  }
}

async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isServiceError(error)) throw new Error(`Expected a ServiceError, got ${String(error)}`);
  return error;
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((at, index) => at - times[index]);
}

describe('resilience and the outbound HTTP client, against a misbehaving server', () => {
  let service: ResilientEssayService;
  let client: HttpClient;
  let removePropagation: () => void;

  const metrics = async () => (await service.http.get('/metrics')).text;
  const healthz = async () => {
    const response = await service.http.get('/healthz');
    return {
      status: response.status,
      body: JSON.parse(response.text) as {
        status: string;
        checks: Record<
          string,
          { status: string; required: boolean; error?: string; state?: string }
        >;
      },
    };
  };
  const url = (path: string) => `${server.origin}${path}`;

  beforeAll(async () => {
    server = await MisbehavingServer.start();
    removePropagation = installW3cTracePropagation();
    service = await startResilientEssayService({
      resilience: { policies: POLICIES },
      controllers: [OutboundController],
    });
    client = service.client;
  });

  afterEach(() => {
    server.clear();
    server.always({ status: 200, body: '{}' });
  });

  afterAll(async () => {
    await service?.close();
    await server?.close();
    removePropagation?.();
  });

  describe('retry', () => {
    it('backs off with full jitter within [0, min(cap, base × 2^n)) and retries until success', async () => {
      for (let run = 0; run < 3; run++) {
        server.clear();
        server.next({ status: 503 }, { status: 502 }, { status: 504 }).always({ status: 200 });

        const response = await client.get(url('/jitter'), { policy: 'jitter' });

        expect(response.status).toBe(200);
        expect(server.requests).toHaveLength(4);
        const [first, second, third] = gaps(server.requests.map((request) => request.at));
        expect(first).toBeLessThan(100 + SLACK_MS);
        expect(second).toBeLessThan(200 + SLACK_MS);
        // The third wait would be up to 400 ms without the 250 ms cap.
        expect(third).toBeLessThan(250 + SLACK_MS);
      }
      expect(
        sampleValue(await metrics(), 'retries_total', { name: 'jitter', outcome: 'retried' }),
      ).toBe(9);
    });

    it('honours Retry-After up to the cap, and does not retry when it asks for longer', async () => {
      server.next({ status: 503, headers: { 'retry-after': '1' } }).always({ status: 200 });

      const response = await client.get(url('/retry-after'), { policy: 'retry-after' });

      expect(response.status).toBe(200);
      const [gap] = gaps(server.requests.map((request) => request.at));
      expect(gap).toBeGreaterThanOrEqual(1_000 - 5);
      expect(gap).toBeLessThan(1_000 + SLACK_MS * 3);

      server.clear();
      server.always({ status: 429, headers: { 'retry-after': '30' } });
      const error = await failure(client.get(url('/retry-after'), { policy: 'retry-after' }));
      expect(error.code).toBe(ErrorCode.DEPENDENCY_UNAVAILABLE);
      expect(error.details).toMatchObject({ upstreamStatus: 429, retryAfterMs: 30_000 });
      expect(server.requests).toHaveLength(1);
      expect(
        sampleValue(await metrics(), 'retries_total', {
          name: 'retry-after',
          outcome: 'retry_after_too_long',
        }),
      ).toBe(1);
    });

    it('does not retry a 400 (returned as is) nor a 500 (not transient)', async () => {
      server.always({ status: 400, body: '{"error":"bad"}' });
      const response = await client.get(url('/bad'), { policy: 'plain' });
      expect(response.status).toBe(400);
      expect(response.json()).toEqual({ error: 'bad' });
      expect(server.requests).toHaveLength(1);

      server.clear();
      server.always({ status: 500 });
      const error = await failure(client.get(url('/broken'), { policy: 'plain' }));
      expect(error.code).toBe(ErrorCode.DEPENDENCY_UNAVAILABLE);
      expect(error.status).toBe(503);
      expect(server.requests).toHaveLength(1);
    });

    it('never retries a POST, unless it carries an Idempotency-Key or is marked idempotent', async () => {
      server.always({ status: 503 });
      const error = await failure(client.post(url('/orders'), { policy: 'plain', json: { n: 1 } }));
      expect(error.code).toBe(ErrorCode.DEPENDENCY_UNAVAILABLE);
      expect(server.requests).toHaveLength(1);
      expect(
        sampleValue(await metrics(), 'retries_total', { name: 'plain', outcome: 'not_idempotent' }),
      ).toBe(1);

      server.clear();
      server.next({ status: 503 }).always({ status: 201 });
      const keyed = await client.post(url('/orders'), {
        policy: 'plain',
        json: { n: 1 },
        headers: { 'Idempotency-Key': 'order-1' },
      });
      expect(keyed.status).toBe(201);
      expect(server.requests.map((request) => request.body)).toEqual(['{"n":1}', '{"n":1}']);

      server.clear();
      server.next('reset').always({ status: 200 });
      const marked = await client.post(url('/check'), {
        policy: 'plain',
        form: { text: 'x' },
        idempotent: true,
      });
      expect(marked.status).toBe(200);
      expect(server.requests).toHaveLength(2);
    });

    it('retries a reset connection, and gives up after maxAttempts on connection refused', async () => {
      server.next('reset', 'reset').always({ status: 200 });
      expect((await client.get(url('/reset'), { policy: 'plain' })).status).toBe(200);
      expect(server.requests).toHaveLength(3);

      const closedPort = await freePort();
      const error = await failure(
        client.get(`http://127.0.0.1:${closedPort}/`, { policy: 'plain' }),
      );
      expect(error.code).toBe(ErrorCode.DEPENDENCY_UNAVAILABLE);
      expect(error.details).toMatchObject({ error: 'ECONNREFUSED', transient: true, attempt: 3 });
      expect(
        sampleValue(await metrics(), 'http_client_requests_total', {
          host: `127.0.0.1:${closedPort}`,
          method: 'GET',
          status_code: 'error',
        }),
      ).toBe(3);
    });

    it('times out a slow attempt and retries it; the total timeout bounds the whole call (504 TIMEOUT)', async () => {
      server.next({ status: 200, delayMs: 2_000 }).always({ status: 200 });
      const startedAt = performance.now();
      expect((await client.get(url('/slow'), { policy: 'slow' })).status).toBe(200);
      expect(performance.now() - startedAt).toBeLessThan(150 + 10 + 500);
      expect(server.requests).toHaveLength(2);

      server.clear();
      server.always('hang');
      const hungAt = performance.now();
      const error = await failure(client.get(url('/hang'), { policy: 'total-timeout' }));
      const elapsed = performance.now() - hungAt;
      expect(error.code).toBe(ErrorCode.TIMEOUT);
      expect(error.status).toBe(504);
      expect(elapsed).toBeGreaterThanOrEqual(300 - 5);
      expect(elapsed).toBeLessThan(300 + SLACK_MS * 3);
      expect(
        sampleValue(await metrics(), 'policy_calls_total', {
          name: 'total-timeout',
          outcome: 'timeout',
        }),
      ).toBe(1);
    });

    it('stops retrying when the retry budget is spent', async () => {
      server.always({ status: 503 });
      // 4 tokens; retries allowed while more than 2 are left: the first call retries
      // twice (4 → 3 → 2 tokens after 2 failures … then the budget forbids).
      await failure(client.get(url('/budget'), { policy: 'budget' }));
      await failure(client.get(url('/budget'), { policy: 'budget' }));
      const text = await metrics();
      expect(sampleValue(text, 'retries_total', { name: 'budget', outcome: 'retried' })).toBe(1);
      expect(
        sampleValue(text, 'retries_total', { name: 'budget', outcome: 'budget_exhausted' }),
      ).toBe(2);
      expect(server.requests).toHaveLength(3);
    });

    it('the @Resilient decorator runs a controller method under its policy', async () => {
      server.next({ status: 503 }).always({ status: 200 });
      const response = await service.http.get('/outbound/decorated');
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ status: 200 });
      expect(server.requests).toHaveLength(2);
    });
  });

  describe('circuit breaker', () => {
    it('opens at the threshold, fast-fails with the fallback, half-opens, then closes after its trial calls', async () => {
      server.always({ status: 500 });
      const mark = service.logs.mark();
      for (let i = 0; i < 4; i++) await failure(client.get(url('/cb'), { policy: 'breaker' }));
      expect(server.requests).toHaveLength(4);

      // Open: metrics, health (degraded, still ready), the log line, no request reaches the server.
      let text = await metrics();
      expect(sampleValue(text, 'circuit_breaker_state', { name: 'breaker' })).toBe(2);
      expect(
        sampleValue(text, 'circuit_breaker_transitions_total', {
          name: 'breaker',
          from: 'closed',
          to: 'open',
        }),
      ).toBe(1);
      let health = await healthz();
      expect(health.status).toBe(200);
      expect(health.body.status).toBe('warn');
      expect(health.body.checks['circuit-breaker:breaker']).toMatchObject({
        status: 'degraded',
        required: false,
      });
      expect(health.body.checks['circuit-breaker:breaker'].error).toMatch(/circuit open/);
      expect((await service.http.get('/readyz')).status).toBe(200);
      expect(
        service.logs
          .since(mark)
          .some((line) => line.level === 'warn' && /breaker: closed → open/.test(line.msg ?? '')),
      ).toBe(true);

      const startedAt = performance.now();
      const fallback = await service.policies.execute(
        'breaker',
        () => client.get(url('/cb'), { policy: false }),
        { fallback: (error) => `fallback: ${String(error.details?.reason)}` },
      );
      expect(performance.now() - startedAt).toBeLessThan(10);
      expect(fallback).toBe('fallback: circuit_open');
      const rejected = await failure(client.get(url('/cb'), { policy: 'breaker' }));
      expect(rejected.code).toBe(ErrorCode.DEPENDENCY_UNAVAILABLE);
      expect(rejected.headers?.['Retry-After']).toMatch(/^\d+$/);
      expect(server.requests).toHaveLength(4);

      // A client of the app sees the open circuit as problem+json 503 with Retry-After.
      const viaApp = await service.http.get('/outbound').query({ policy: 'breaker' });
      expect(viaApp.status).toBe(503);
      expect(viaApp.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(viaApp.headers['retry-after']).toMatch(/^\d+$/);
      expect(viaApp.body).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', status: 503 });
      expect(server.requests).toHaveLength(4);
      text = await metrics();
      expect(
        sampleValue(text, 'policy_calls_total', { name: 'breaker', outcome: 'fallback' }),
      ).toBe(1);
      expect(
        sampleValue(text, 'policy_calls_total', { name: 'breaker', outcome: 'circuit_open' }),
      ).toBe(2);

      // Half-open after the open duration: exactly 2 trial calls reach the server.
      await waitFor(
        async () =>
          sampleValue(await metrics(), 'circuit_breaker_state', { name: 'breaker' }) === 1 ||
          undefined,
        2_000,
        { description: 'the breaker to half-open' },
      );
      health = await healthz();
      expect(health.body.checks['circuit-breaker:breaker'].error).toMatch(/half-open/);
      server.always({ status: 200, delayMs: 150 });
      const trials = await Promise.allSettled([
        client.get(url('/cb'), { policy: 'breaker' }),
        client.get(url('/cb'), { policy: 'breaker' }),
        client.get(url('/cb'), { policy: 'breaker' }),
      ]);
      expect(trials.map((trial) => trial.status).sort()).toEqual([
        'fulfilled',
        'fulfilled',
        'rejected',
      ]);
      expect(server.requests).toHaveLength(6);

      text = await metrics();
      expect(sampleValue(text, 'circuit_breaker_state', { name: 'breaker' })).toBe(0);
      expect(
        sampleValue(text, 'circuit_breaker_transitions_total', {
          name: 'breaker',
          from: 'half_open',
          to: 'closed',
        }),
      ).toBe(1);
      health = await healthz();
      expect(health.body.checks['circuit-breaker:breaker']).toMatchObject({
        status: 'up',
        state: 'closed',
      });
    });

    it('an open breaker of a dependency marked required fails readiness', async () => {
      server.always({ status: 503 });
      await failure(client.get(url('/req'), { policy: 'required-breaker' }));
      await failure(client.get(url('/req'), { policy: 'required-breaker' }));

      const ready = await service.http.get('/readyz');
      expect(ready.status).toBe(503);
      const health = await healthz();
      expect(health.body.checks['circuit-breaker:required-breaker']).toMatchObject({
        status: 'down',
        required: true,
      });
      // Closed again for the tests after this one.
      service.policies.define('required-breaker', POLICIES['required-breaker']);
    });
  });

  describe('bulkhead', () => {
    it('runs maxConcurrent calls, queues maxQueue, rejects the rest at once', async () => {
      server.always({ status: 200, delayMs: 300 });
      const calls = [0, 1, 2].map(() => client.get(url('/bulk'), { policy: 'bulkhead' }));
      const rejected = await failure(calls[2]);
      expect(rejected.code).toBe(ErrorCode.DEPENDENCY_UNAVAILABLE);
      expect(rejected.details).toMatchObject({ reason: 'bulkhead_full' });
      expect(server.requests.length).toBeLessThanOrEqual(1);
      expect((await calls[0]).status).toBe(200);
      expect((await calls[1]).status).toBe(200);
      expect(server.requests).toHaveLength(2);
      expect(
        sampleValue(await metrics(), 'policy_calls_total', {
          name: 'bulkhead',
          outcome: 'bulkhead_full',
        }),
      ).toBe(1);
    });
  });

  describe('outbound headers, pooling and metrics', () => {
    it('sends X-Correlation-ID and W3C traceparent on every attempt', async () => {
      server.next({ status: 503 }).always({ status: 200 });
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const spanId = '00f067aa0ba902b7';

      await RequestContext.run({ correlationId: 'outbound-corr-1' }, () =>
        withSpan(traceId, spanId, () => client.get(url('/headers'), { policy: 'plain' })),
      );

      expect(server.requests).toHaveLength(2);
      for (const request of server.requests) {
        expect(request.headers['x-correlation-id']).toBe('outbound-corr-1');
        expect(request.headers.traceparent).toBe(`00-${traceId}-${spanId}-01`);
      }
    });

    it('keeps connections alive per origin and counts requests by host, method and status', async () => {
      const before = server.connections;
      for (let i = 0; i < 5; i++) await client.get(url('/pooled'), { policy: false });
      expect(server.connections - before).toBeLessThanOrEqual(1);

      const host = new URL(server.origin).host;
      const text = await metrics();
      expect(
        sampleValue(text, 'http_client_requests_total', {
          host,
          method: 'GET',
          status_code: '200',
        }),
      ).toBeGreaterThanOrEqual(5);
      expect(
        sampleValue(text, 'http_client_request_duration_seconds_count', {
          host,
          method: 'GET',
          status_code: '200',
        }),
      ).toBeGreaterThanOrEqual(5);
    });
  });
});
