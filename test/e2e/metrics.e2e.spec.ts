import { randomUUID } from 'node:crypto';
import { MetricsRegistry } from 'nestjs-production-readiness';
import { MetricsServer } from '../../libs/production-readiness/src/metrics/metrics-server.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BoomController } from '../support/boom.controller.js';
import {
  startCapturedEssayService,
  type CapturedEssayService,
} from '../support/captured-essay-service.js';
import { samplesOf, sampleValue } from '../support/exposition.js';
import { freePort } from '../support/free-port.js';
import { GuardedController } from '../support/guarded.controller.js';

describe.each(['express', 'fastify'] as const)('GET /metrics on %s', (adapter) => {
  let service: CapturedEssayService | undefined;

  afterEach(async () => {
    await service?.close();
    service = undefined;
  });

  it('serves the Prometheus text format with the service label on every series', async () => {
    service = await startCapturedEssayService({ adapter, env: { SERVICE_NAME: 'metrics-e2e' } });

    const response = await service.http.get('/metrics');

    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.text).toMatch(/^process_cpu_user_seconds_total\{service="metrics-e2e"\} \d/m);
    expect(response.text).toMatch(/^nodejs_eventloop_lag_seconds\{service="metrics-e2e"\} /m);
    const samples = response.text.split('\n').filter((line) => line && !line.startsWith('#'));
    expect(samples.length).toBeGreaterThan(20);
    expect(samples.filter((line) => !line.includes('service="metrics-e2e"'))).toEqual([]);
  });

  it('shows each dependency check of the last probe as a gauge', async () => {
    service = await startCapturedEssayService({ adapter, env: { SERVICE_NAME: 'metrics-e2e' } });
    expect((await service.http.get('/readyz')).status).toBe(200);

    const { text } = await service.http.get('/metrics');

    for (const check of ['database', 'broker']) {
      expect(text).toMatch(
        new RegExp(
          `^health_check_up\\{check="${check}",required="true",service="metrics-e2e"\\} 1$`,
          'm',
        ),
      );
      expect(text).toMatch(
        new RegExp(
          `^health_check_duration_seconds\\{check="${check}",service="metrics-e2e"\\} [0-9.]+$`,
          'm',
        ),
      );
    }
  });

  it('is off with METRICS_ENABLED=false: 404 problem+json', async () => {
    service = await startCapturedEssayService({ adapter, env: { METRICS_ENABLED: 'false' } });

    const response = await service.http.get('/metrics');

    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ code: 'NOT_FOUND', status: 404 });
    expect(response.text).not.toMatch(/process_cpu/);
  });

  it('is quiet in the access log', async () => {
    service = await startCapturedEssayService({ adapter });
    await service.http.get('/metrics').expect(200);
    await service.http.get('/essays/00000000-0000-4000-8000-000000000000').expect(404);

    const accessLines = service.logs.lines.filter((line) => line.msg === 'request completed');
    expect(accessLines.map((line) => line.path)).toEqual([
      '/essays/00000000-0000-4000-8000-000000000000',
    ]);
  });
});

const SERVICE = 'metrics-red-e2e';

describe.each(['express', 'fastify'] as const)('HTTP metrics on %s', (adapter) => {
  let service: CapturedEssayService;

  beforeEach(async () => {
    service = await startCapturedEssayService({
      adapter,
      env: { SERVICE_NAME: SERVICE },
      controllers: [BoomController, GuardedController],
    });
  });

  afterEach(async () => {
    await service.close();
  });

  async function scrape(): Promise<string> {
    const response = await service.http.get('/metrics').expect(200);
    return response.text;
  }

  it('counts each request once by method, route template and the status the client got', async () => {
    const before = await scrape();
    const missing = '00000000-0000-4000-8000-000000000000';
    const essay = await service.http
      .post('/essays')
      .send({ title: 'Counted', text: 'One two three.', language: 'en' })
      .expect(202);
    await service.http.get(`/essays/${(essay.body as { id: string }).id}`).expect(200);
    await service.http.get(`/essays/${missing}`).expect(404);
    await service.http.get(`/essays/${missing}`).expect(404);
    await service.http.get('/essays/not-a-uuid').expect(400);
    await service.http.get('/guarded/unauthenticated/7').expect(401);
    await service.http.get('/guarded/forbidden').expect(403);
    await service.http
      .post('/essays')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ title: 'x', text: 'y'.repeat(1_100_000) }))
      .expect(413);
    await service.http.get('/boom').expect(500);
    await service.http.get('/no/such/thing').expect(404);
    await service.http.delete('/essays').expect(405);
    const after = await scrape();

    const delta = (method: string, route: string, status: number) =>
      sampleValue(after, 'http_requests_total', { method, route, status_code: String(status) }) -
      sampleValue(before, 'http_requests_total', { method, route, status_code: String(status) });
    expect(delta('POST', '/essays', 202)).toBe(1);
    expect(delta('GET', '/essays/:id', 200)).toBe(1);
    expect(delta('GET', '/essays/:id', 404)).toBe(2);
    expect(delta('GET', '/essays/:id', 400)).toBe(1);
    expect(delta('GET', '/guarded/unauthenticated/:id', 401)).toBe(1);
    expect(delta('GET', '/guarded/forbidden', 403)).toBe(1);
    expect(delta('POST', '/essays', 413)).toBe(1);
    expect(delta('GET', '/boom', 500)).toBe(1);
    expect(delta('GET', 'unmatched', 404)).toBe(1);
    expect(delta('DELETE', 'unmatched', 405)).toBe(1);

    // The histogram counts the same requests, with the service label.
    const count = (text: string) =>
      sampleValue(text, 'http_request_duration_seconds_count', {
        method: 'GET',
        route: '/essays/:id',
        status_code: '404',
      });
    expect(count(after) - count(before)).toBe(2);
    expect(
      samplesOf(after, 'http_request_duration_seconds_bucket', {
        route: '/essays/:id',
        status_code: '404',
        le: '+Inf',
        service: SERVICE,
      }),
    ).toHaveLength(1);
  });

  it('gives 1,000 distinct ids one route value, and 1,000 unknown paths one more', async () => {
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, index) => {
          const n = String(batch * 100 + index).padStart(12, '0');
          return service.http.get(`/essays/00000000-0000-4000-8000-${n}`).expect(404);
        }),
      );
      await Promise.all(
        Array.from({ length: 100 }, () =>
          service.http.get(`/scan/${randomUUID()}/${Math.random()}`).expect(404),
        ),
      );
    }

    const text = await scrape();
    const routes = new Set(
      samplesOf(text, 'http_requests_total').map((sample) => sample.labels.route),
    );
    expect(routes).toContain('/essays/:id');
    expect(routes).toContain('unmatched');
    expect(
      [...routes].filter((route) => route.includes('0000-4000') || route.includes('/scan')),
    ).toEqual([]);
    expect(
      sampleValue(text, 'http_requests_total', {
        method: 'GET',
        route: '/essays/:id',
        status_code: '404',
      }),
    ).toBeGreaterThanOrEqual(1000);
  });

  it('counts error codes and unexpected errors by type', async () => {
    const before = await scrape();
    await service.http.get('/boom').expect(500);
    await service.http.get('/conflict').expect(409);
    await service.http.get('/conflict').expect(409);
    const after = await scrape();

    const delta = (name: string, labels: Record<string, string>) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(delta('errors_total', { code: 'CONFLICT' })).toBe(2);
    expect(delta('errors_total', { code: 'INTERNAL' })).toBe(1);
    expect(delta('unexpected_errors_total', { type: 'Error' })).toBe(1);
  });

  it('serves OpenMetrics when the scraper asks for it, and the text format after it', async () => {
    await service.http.get('/boom').expect(500);
    const openMetrics = await service.http
      .get('/metrics')
      .set('accept', 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5')
      .expect(200);

    expect(openMetrics.headers['content-type']).toMatch(
      /^application\/openmetrics-text; version=1\.0\.0/,
    );
    expect(openMetrics.text.endsWith('# EOF\n')).toBe(true);
    expect(openMetrics.text).toMatch(/^# TYPE http_requests counter$/m);
    expect(openMetrics.text).toMatch(
      /^http_requests_total\{method="GET",route="\/boom",status_code="500",service="metrics-red-e2e"\} \d+$/m,
    );

    const text = await scrape();
    expect(text).toMatch(/^# TYPE http_requests_total counter$/m);
    expect(text).not.toMatch(/# EOF/);
  });
});

describe('the label cap', () => {
  let service: CapturedEssayService;

  afterEach(async () => {
    await service.close();
  });

  it('folds values past the cap into __overflow__ and counts what it dropped', async () => {
    service = await startCapturedEssayService({ env: { SERVICE_NAME: SERVICE } });
    const metrics = service.app.get(MetricsRegistry);
    const flooded = metrics.counter({
      name: 'flooded_things_total',
      help: 'A counter whose label is fed user input.',
      labelNames: ['thing', 'kind'],
    });

    for (let n = 0; n < 150; n++) flooded.inc({ thing: `thing-${n}`, kind: 'a' });
    flooded.inc({ thing: 'thing-7', kind: 'a' }); // seen before the cap: keeps its series
    flooded.labels('thing-200', 'a').inc(); // positional labels are capped too

    const text = (await service.http.get('/metrics').expect(200)).text;
    const samples = samplesOf(text, 'flooded_things_total');
    expect(samples).toHaveLength(101);
    expect(sampleValue(text, 'flooded_things_total', { thing: 'thing-7', kind: 'a' })).toBe(2);
    expect(sampleValue(text, 'flooded_things_total', { thing: '__overflow__', kind: 'a' })).toBe(
      51,
    );
    expect(
      sampleValue(text, 'metrics_label_values_dropped_total', {
        metric: 'flooded_things_total',
        label: 'thing',
      }),
    ).toBe(51);
  });
});

describe('METRICS_PORT', () => {
  let service: CapturedEssayService;

  afterEach(async () => {
    await service.close();
  });

  it('serves the exposition on its own port, and not on the app port', async () => {
    service = await startCapturedEssayService({
      env: { SERVICE_NAME: SERVICE, METRICS_PORT: String(await freePort()) },
    });
    const port = service.app.get(MetricsServer).boundPort;
    expect(port).toBeGreaterThan(0);

    const onOwnPort = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(onOwnPort.status).toBe(200);
    expect(await onOwnPort.text()).toMatch(
      /^process_cpu_user_seconds_total\{service="metrics-red-e2e"\}/m,
    );
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);

    const onAppPort = await service.http.get('/metrics');
    expect(onAppPort.status).toBe(404);
    expect(onAppPort.body).toMatchObject({ code: 'NOT_FOUND' });
  });
});
