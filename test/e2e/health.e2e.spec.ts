import { ReadinessService } from 'nestjs-production-readiness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageVersion } from '../../apps/essay-service/src/package-version.js';
import {
  startCapturedEssayService,
  type CapturedEssayService,
} from '../support/captured-essay-service.js';

const HEALTH_JSON = /^application\/health\+json/;
const PROBES = ['/livez', '/readyz', '/healthz', '/startupz'];
const ANY_NUMBER = expect.any(Number) as unknown;

// Each describe builds its own app and closes it before the next starts:
// Nest's Logger is process-wide, so two live apps would share one logger.
describe.each(['express', 'fastify'] as const)(
  'health probes on %s (embedded defaults)',
  (adapter) => {
    let service: CapturedEssayService;

    beforeAll(async () => {
      // The embedded defaults: in-memory SQLite and the in-process bus, no Redis.
      service = await startCapturedEssayService({ adapter });
    });

    afterAll(async () => {
      await service?.close();
    });

    it('GET /livez: 200 health+json, the process only (event loop and heap), never a dependency', async () => {
      const response = await service.http.get('/livez');

      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(HEALTH_JSON);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(JSON.parse(response.text)).toEqual({
        status: 'pass',
        service: 'essay-service',
        version: packageVersion(),
        checks: {
          eventLoop: {
            status: 'up',
            required: true,
            responseTimeMs: 0,
            p99DelayMs: ANY_NUMBER,
            limitMs: 1_000,
          },
          heap: {
            status: 'up',
            required: true,
            responseTimeMs: 0,
            usedBytes: ANY_NUMBER,
            limitBytes: ANY_NUMBER,
          },
        },
      });
    });

    it('GET /readyz: 200 health+json, the short form with database and broker only (no REDIS_URL, no redis)', async () => {
      const response = await service.http.get('/readyz');

      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(HEALTH_JSON);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(JSON.parse(response.text)).toEqual({
        status: 'pass',
        service: 'essay-service',
        version: packageVersion(),
        checks: { database: { status: 'up' }, broker: { status: 'up' } },
      });
    });

    it('GET /healthz: 200 health+json, every check with status, required, response time and details', async () => {
      const response = await service.http.get('/healthz');

      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(HEALTH_JSON);
      const body = JSON.parse(response.text) as { checks: Record<string, Record<string, unknown>> };
      expect(body).toMatchObject({
        status: 'pass',
        service: 'essay-service',
        version: packageVersion(),
      });
      expect(Object.keys(body.checks).sort()).toEqual(['broker', 'database']);
      expect(body.checks.database).toMatchObject({
        status: 'up',
        required: true,
        responseTimeMs: ANY_NUMBER,
        driver: 'sqljs',
      });
      expect(body.checks.broker).toMatchObject({
        status: 'up',
        required: true,
        responseTimeMs: ANY_NUMBER,
        transport: 'in-process',
      });
      for (const check of Object.values(body.checks)) expect(check).not.toHaveProperty('error');
    });

    it('GET /startupz: 200 health+json once the app has bootstrapped', async () => {
      const response = await service.http.get('/startupz');

      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(HEALTH_JSON);
      expect(JSON.parse(response.text)).toEqual({ status: 'pass' });
    });

    it('writes no access line for a probe that answers 200', async () => {
      const mark = service.logs.mark();
      for (const path of PROBES) {
        expect(
          (await service.http.get(path).set('X-Correlation-ID', `probe-${adapter}`)).status,
        ).toBe(200);
      }
      // A later request's access line shows the probes' would have been written by now.
      await service.http.get('/no/such/route').set('X-Correlation-ID', `after-probes-${adapter}`);
      await service.logs.waitForLine(
        (line) =>
          line.msg === 'request completed' && line.correlationId === `after-probes-${adapter}`,
        5_000,
        'the access line of the request after the probes',
      );

      const probeLines = service.logs
        .accessLines(mark)
        .filter((line) => PROBES.includes(String(line.path)));
      expect(probeLines).toEqual([]);
      expect(
        service.logs.since(mark).filter((line) => line.correlationId === `probe-${adapter}`),
      ).toEqual([]);
    });

    // Last: the app stays unready from here on.
    it('once shutting down: /readyz and /healthz 503 with reason, the 503 logged; /livez still 200', async () => {
      service.app.get(ReadinessService).markShuttingDown();
      const mark = service.logs.mark();

      const ready = await service.http
        .get('/readyz')
        .set('X-Correlation-ID', `draining-${adapter}`);
      const health = await service.http.get('/healthz');
      const live = await service.http.get('/livez');

      expect(ready.status).toBe(503);
      expect(ready.headers['content-type']).toMatch(HEALTH_JSON);
      expect(JSON.parse(ready.text)).toEqual({
        status: 'fail',
        service: 'essay-service',
        version: packageVersion(),
        reason: 'shutting down',
        checks: { database: { status: 'up' }, broker: { status: 'up' } },
      });
      expect(health.status).toBe(503);
      expect(JSON.parse(health.text)).toMatchObject({ status: 'fail', reason: 'shutting down' });
      expect(live.status).toBe(200);
      // Quiet paths are quiet below 500 only: an unready instance shows in the access log.
      expect(
        await service.logs.waitForLine(
          (line) =>
            line.msg === 'request completed' && line.correlationId === `draining-${adapter}`,
          5_000,
          'the access line of the 503 readiness probe',
        ),
      ).toMatchObject({ path: '/readyz', status: 503 });
      expect(service.logs.accessLines(mark).filter((line) => line.path === '/livez')).toEqual([]);
    });
  },
);
