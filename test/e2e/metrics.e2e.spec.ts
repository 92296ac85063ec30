import { afterEach, describe, expect, it } from 'vitest';
import {
  startCapturedEssayService,
  type CapturedEssayService,
} from '../support/captured-essay-service.js';

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
