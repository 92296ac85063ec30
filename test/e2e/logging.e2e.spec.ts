import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageVersion } from '../../apps/essay-service/src/package-version.js';
import { BoomController, LOGGED_SECRETS } from '../support/boom.controller.js';
import {
  startCapturedEssayService,
  type CapturedEssayService,
  type CapturedEssayServiceOptions,
} from '../support/captured-essay-service.js';
import type { LogLine } from '../support/log-capture.js';

const MISSING_ESSAY = '6f1c2a4e-3b7d-4c9a-8e2f-1a2b3c4d5e6f';
const TEXT = 'The cat sat on the mat. It was happy!';
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

// Each describe builds its own app and closes it before the next starts:
// Nest's Logger is process-wide, so two live apps would share one logger.
describe.each(['express', 'fastify'] as const)('JSON logs on %s', (adapter) => {
  /** One app for the tests of a describe, started before them and closed after. */
  function useService(options: Omit<CapturedEssayServiceOptions, 'adapter'> = {}) {
    const holder: { service: CapturedEssayService } = {} as { service: CapturedEssayService };
    beforeAll(async () => {
      holder.service = await startCapturedEssayService({
        adapter,
        controllers: [BoomController],
        ...options,
      });
    });
    afterAll(async () => {
      await holder.service?.close();
    });
    return holder;
  }

  function accessLineOf(service: CapturedEssayService, correlationId: string): Promise<LogLine> {
    return service.logs.waitForLine(
      (line) => line.msg === 'request completed' && line.correlationId === correlationId,
      5_000,
      `the access line of ${correlationId}`,
    );
  }

  describe('with the default options', () => {
    const app = useService();

    it('writes every line as one JSON object with level, time, service, version and environment', () => {
      const { logs } = app.service;

      expect(logs.invalid).toEqual([]);
      expect(logs.lines.length).toBeGreaterThan(0);
      for (const line of logs.lines) {
        expect(line).toMatchObject({
          level: expect.stringMatching(/^(trace|debug|info|warn|error|fatal)$/) as unknown,
          time: expect.stringMatching(ISO_TIME) as unknown,
          service: 'essay-service',
          version: packageVersion(),
          environment: 'production',
          msg: expect.any(String) as unknown,
        });
      }
    });

    it("writes Nest's own bootstrap messages as JSON lines with their context", () => {
      const { lines } = app.service.logs;

      expect(lines).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            level: 'info',
            context: 'NestFactory',
            msg: 'Starting Nest application...',
          }),
          expect.objectContaining({
            level: 'info',
            context: 'InstanceLoader',
            msg: 'EssaysModule dependencies initialized',
          }),
          expect.objectContaining({
            level: 'info',
            context: 'RouterExplorer',
            msg: 'Mapped {/essays, POST} route',
          }),
          expect.objectContaining({
            level: 'info',
            context: 'NestApplication',
            msg: 'Nest application successfully started',
          }),
        ]),
      );
    });

    it('logs the configuration at startup with its secrets hidden', () => {
      const loaded = app.service.logs.lines.find((line) => line.msg === 'Configuration loaded');

      expect(loaded).toMatchObject({
        context: 'ServiceApp',
        settings: expect.objectContaining({
          SERVICE_NAME: 'essay-service',
          DATABASE_URL: '***',
        }) as unknown,
      });
    });

    it('writes one access line at info for a 202, with method, route template, path, status and duration', async () => {
      const { service } = app;
      const response = await service.http
        .post('/essays?source=test')
        .set('X-Correlation-ID', `accepted-${adapter}`)
        .send({ title: 'Cats', text: TEXT });
      expect(response.status).toBe(202);

      const line = await accessLineOf(service, `accepted-${adapter}`);
      expect(line).toEqual({
        level: 'info',
        time: expect.stringMatching(ISO_TIME) as unknown,
        service: 'essay-service',
        version: packageVersion(),
        environment: 'production',
        correlationId: `accepted-${adapter}`,
        method: 'POST',
        route: '/essays',
        path: '/essays',
        status: 202,
        durationMs: expect.any(Number) as unknown,
        msg: 'request completed',
      });
      expect(line.durationMs).toBeGreaterThanOrEqual(0);
      expect(
        service.logs
          .accessLines()
          .filter((access) => access.correlationId === `accepted-${adapter}`),
      ).toHaveLength(1);
    });

    it('names the route template, not the raw path, for a parameterised route', async () => {
      const { service } = app;
      await service.http
        .get(`/essays/${MISSING_ESSAY}`)
        .set('X-Correlation-ID', `template-${adapter}`);

      expect(await accessLineOf(service, `template-${adapter}`)).toMatchObject({
        level: 'warn',
        method: 'GET',
        route: '/essays/:id',
        path: `/essays/${MISSING_ESSAY}`,
        status: 404,
      });
    });

    it('writes a 404 for an unknown route at warn, with a null route', async () => {
      const { service } = app;
      await service.http.get('/no/such/route?q=1').set('X-Correlation-ID', `unknown-${adapter}`);

      expect(await accessLineOf(service, `unknown-${adapter}`)).toMatchObject({
        level: 'warn',
        method: 'GET',
        route: null,
        path: '/no/such/route',
        status: 404,
      });
    });

    it('writes a 500 at error', async () => {
      const { service } = app;
      await service.http.get('/boom').set('X-Correlation-ID', `failed-${adapter}`);

      expect(await accessLineOf(service, `failed-${adapter}`)).toMatchObject({
        level: 'error',
        method: 'GET',
        route: '/boom',
        path: '/boom',
        status: 500,
      });
    });

    it('writes no access line for a probe path that answers below 500', async () => {
      const { service } = app;
      // 200 once the health module answers it, 404 without it: quiet either way.
      const response = await service.http.get('/livez').set('X-Correlation-ID', `probe-${adapter}`);
      expect(response.status).toBeLessThan(500);
      // A later request's access line shows the probe's would have been written by now.
      await service.http.get('/no/such/route').set('X-Correlation-ID', `after-probe-${adapter}`);
      await accessLineOf(service, `after-probe-${adapter}`);

      expect(service.logs.accessLines().filter((line) => line.path === '/livez')).toEqual([]);
    });

    it('redacts secrets at any depth in what a handler logs', async () => {
      const { service } = app;
      const response = await service.http
        .get('/log-secrets')
        .set('X-Correlation-ID', `secrets-${adapter}`);
      expect(response.status).toBe(200);

      const line = service.logs.lines.find(
        (candidate) =>
          candidate.msg === 'handling secrets' && candidate.correlationId === `secrets-${adapter}`,
      );
      expect(line).toMatchObject({
        level: 'info',
        context: 'T',
        headers: { authorization: '[REDACTED]', cookie: '[REDACTED]', 'x-api-key': '[REDACTED]' },
        password: '[REDACTED]',
        nested: { apiKey: '[REDACTED]', secretValue: '[REDACTED]', accessToken: '[REDACTED]' },
      });
      await accessLineOf(service, `secrets-${adapter}`);
      for (const secret of Object.values(LOGGED_SECRETS)) {
        expect(service.logs.text).not.toContain(secret);
      }
    });

    it('never logs the request headers a client sent, secrets included', async () => {
      const { service } = app;
      await service.http
        .get('/no/such/route')
        .set('X-Correlation-ID', `headers-${adapter}`)
        .set('Authorization', 'Bearer header-secret-1')
        .set('Cookie', 'sid=header-secret-2')
        .set('X-API-Key', 'header-secret-3');
      await accessLineOf(service, `headers-${adapter}`);

      expect(service.logs.text).not.toMatch(/header-secret-\d/);
    });
  });

  describe('with quietPaths: ["/essays", "/boom"]', () => {
    const app = useService({ logging: { quietPaths: ['/essays', '/boom'] } });

    it('writes no access line for a 2xx or a 4xx on a quiet path', async () => {
      const { service } = app;
      const accepted = await service.http.post('/essays').send({ title: 'Quiet', text: TEXT });
      const invalid = await service.http.post('/essays').send({ title: 'Quiet' });
      expect([accepted.status, invalid.status]).toEqual([202, 400]);
      // A request on another path, logged after them, proves their lines had their chance.
      await service.http.get(`/essays/${MISSING_ESSAY}`).set('X-Correlation-ID', `loud-${adapter}`);
      await accessLineOf(service, `loud-${adapter}`);

      expect(service.logs.accessLines().map((line) => line.path)).toEqual([
        `/essays/${MISSING_ESSAY}`,
      ]);
    });

    it('still writes the access line of a 5xx on a quiet path, at error', async () => {
      const { service } = app;
      await service.http.get('/boom').set('X-Correlation-ID', `quiet-failure-${adapter}`);

      expect(await accessLineOf(service, `quiet-failure-${adapter}`)).toMatchObject({
        level: 'error',
        path: '/boom',
        status: 500,
      });
    });
  });

  describe('with LOG_LEVEL=warning', () => {
    const app = useService({ env: { LOG_LEVEL: 'warning' } });

    it('writes no info line at all, bootstrap and access lines included', async () => {
      const { service } = app;
      await service.http
        .post('/essays')
        .set('X-Correlation-ID', `info-${adapter}`)
        .send({ title: 'T', text: TEXT });
      await service.http.get('/no/such/route').set('X-Correlation-ID', `warn-${adapter}`);
      await accessLineOf(service, `warn-${adapter}`);

      expect(
        service.logs.lines.filter((line) => line.level === 'info' || line.level === 'debug'),
      ).toEqual([]);
      expect(service.logs.withCorrelationId(`info-${adapter}`)).toEqual([]);
      expect(service.logs.withCorrelationId(`warn-${adapter}`).map((line) => line.level)).toEqual([
        'warn',
        'warn',
      ]);
    });
  });

  describe('with LOG_LEVEL=CRITICAL', () => {
    const app = useService({ env: { LOG_LEVEL: 'CRITICAL' } });

    it('writes fatal lines only: CRITICAL is pino’s fatal', async () => {
      const { service } = app;
      await service.http.get('/boom').set('X-Correlation-ID', `critical-${adapter}`);
      new Logger('T').error('an error line');
      new Logger('T').fatal('the disk is gone');

      const fatal = await service.logs.waitForLine((line) => line.msg === 'the disk is gone');
      expect(fatal).toMatchObject({ level: 'fatal', context: 'T' });
      expect(service.logs.lines.map((line) => line.level)).toEqual(['fatal']);
    });
  });
});
