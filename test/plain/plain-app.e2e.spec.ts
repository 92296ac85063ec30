import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { LOGGING_OPTIONS } from 'nestjs-production-readiness';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogCapture } from '../support/log-capture.js';
import { withEnv } from '../support/essay-service.js';
import { waitFor } from '../support/wait-for.js';
import { PLAIN_ENV, RUN } from './plain-env.js';
import { AppModule } from './src/app.module.js';
import { initTestingApp } from '../support/testing-app.js';

// What the base config asks of every service today; the app itself sets nothing else.
type Adapter = 'express' | 'fastify';

/**
 * The e2e test `nest new` writes, with the log destination overridden the
 * way a user overrides any provider: Test.createTestingModule, compile,
 * createNestApplication, init, supertest. No helper of the library.
 */
async function createPlainApp(
  adapter: Adapter,
  env: Record<string, string | undefined> = {},
  configure?: (app: INestApplication) => void,
): Promise<{ app: INestApplication; logs: LogCapture }> {
  const logs = new LogCapture();
  const app = await withEnv({ ...PLAIN_ENV, ...env }, async () => {
    const moduleFixture = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(LOGGING_OPTIONS)
      .useValue({ destination: logs.destination })
      .compile();
    return initTestingApp(moduleFixture, adapter, configure);
  });
  return { app, logs };
}

const http = (app: INestApplication) => request(app.getHttpServer() as Server);

async function countOf(app: INestApplication, pattern: RegExp, path = '/metrics'): Promise<number> {
  const exposition = await http(app).get(path).expect(200);
  const line = exposition.text.split('\n').find((text) => pattern.test(text));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

for (const adapter of ['express', 'fastify'] as const) {
  describe(`a plain Nest app with only the import, on ${adapter}`, () => {
    let app: INestApplication;
    let logs: LogCapture;

    beforeEach(async () => {
      ({ app, logs } = await createPlainApp(adapter));
    });
    afterEach(async () => {
      await app.close();
    });

    it('answers a 200 with an X-Correlation-ID, echoing the one the client sent', async () => {
      const minted = await http(app).get('/').expect(200);
      expect(minted.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
      const echoed = await http(app).get('/').set('X-Correlation-ID', 'client-id-1').expect(200);
      expect(echoed.headers['x-correlation-id']).toBe('client-id-1');
    });

    it('writes one JSON access line per request with the route template and the correlation id', async () => {
      await http(app).get('/notes/42').set('X-Correlation-ID', 'access-1').expect(200);
      const line = await logs.waitForLine(
        (entry) => entry.correlationId === 'access-1' && 'status' in entry,
      );
      expect(line).toMatchObject({
        method: 'GET',
        route: '/notes/:id',
        path: '/notes/42',
        status: 200,
      });
      expect(
        logs.lines.filter((entry) => entry.correlationId === 'access-1' && 'status' in entry),
      ).toHaveLength(1);
      expect(logs.invalid).toEqual([]);
    });

    it('counts HTTP requests by route template', async () => {
      await http(app).get('/notes/1').expect(200);
      await http(app).get('/notes/2').expect(200);
      expect(
        await countOf(
          app,
          /^http_requests_total\{method="GET",route="\/notes\/:id",status_code="200"/,
        ),
      ).toBe(2);
    });

    it('sends the security headers and no X-Powered-By', async () => {
      const response = await http(app).get('/').expect(200);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['x-powered-by']).toBeUndefined();
    });

    it('refuses a disallowed Origin with 403 problem+json and allows the listed one', async () => {
      const refused = await http(app).get('/').set('Origin', 'https://evil.example').expect(403);
      expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(JSON.parse(refused.text)).toMatchObject({
        code: 'FORBIDDEN',
        correlationId: refused.headers['x-correlation-id'],
      });
      const allowed = await http(app).get('/').set('Origin', 'https://app.example.com').expect(200);
      expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    });

    it('takes JSON bodies up to 1 MiB (past Express’s own 100 KiB) and refuses larger ones with 413', async () => {
      const text = 'a'.repeat(500_000);
      const accepted = await http(app).post('/notes').send({ text }).expect(201);
      expect(accepted.body).toEqual({ length: 500_000 });
      const tooLarge = await http(app)
        .post('/notes')
        .send({ text: 'a'.repeat(1_100_000) })
        .expect(413);
      expect(JSON.parse(tooLarge.text)).toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
        correlationId: tooLarge.headers['x-correlation-id'],
      });
    });

    it('refuses a text/plain body with 415 problem+json', async () => {
      const response = await http(app)
        .post('/notes')
        .set('Content-Type', 'text/plain')
        .send('hello')
        .expect(415);
      expect(JSON.parse(response.text)).toMatchObject({
        code: 'UNSUPPORTED_MEDIA_TYPE',
        correlationId: response.headers['x-correlation-id'],
      });
    });

    it('answers malformed JSON, raised by the platform before routing, with 400 problem+json and its id', async () => {
      const response = await http(app)
        .post('/notes')
        .set('Content-Type', 'application/json')
        .set('X-Correlation-ID', 'bad-json-1')
        .send('{"text":')
        .expect(400);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(JSON.parse(response.text)).toMatchObject({ status: 400, correlationId: 'bad-json-1' });
    });

    it('answers a dependency that refuses the handler with 503 problem+json and Retry-After, not 500', async () => {
      const response = await http(app).get('/upstream').expect(503);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
      expect(response.body).toMatchObject({
        code: 'DEPENDENCY_UNAVAILABLE',
        instance: '/upstream',
      });
      expect(response.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
    });

    it('refuses JSON nested 5,000 levels deep with 400 MALFORMED_REQUEST before validation', async () => {
      const deep = `{"text":${'['.repeat(5_000)}${']'.repeat(5_000)}}`;
      const response = await http(app)
        .post('/notes')
        .set('Content-Type', 'application/json')
        .send(deep)
        .expect(400);
      expect(response.body).toMatchObject({ code: 'MALFORMED_REQUEST', instance: '/notes' });
      await http(app).post('/notes').send({ text: 'still served' }).expect(201);
    });

    it('answers a URL that cannot be decoded with 400 problem+json and its correlation id', async () => {
      const response = await http(app)
        .get('/notes/%ZZ')
        .set('X-Correlation-ID', 'bad-url-1')
        .expect(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({
        code: 'MALFORMED_REQUEST',
        correlationId: 'bad-url-1',
      });
    });

    it('answers an invalid DTO with 400 VALIDATION_FAILED', async () => {
      const response = await http(app).post('/notes').send({ text: 42 }).expect(400);
      expect(JSON.parse(response.text)).toMatchObject({ code: 'VALIDATION_FAILED' });
    });

    it('serves the probes: /livez at once, /readyz once Redis (its dependency here) is connected', async () => {
      await http(app).get('/livez').expect(200);
      // Right after init() the Redis connection may still be opening: readiness waits for it.
      const ready = await waitFor(
        async () => ((await http(app).get('/readyz')).status === 200 ? true : undefined),
        10_000,
        { description: '/readyz to answer 200', intervalMs: 100 },
      );
      expect(ready).toBe(true);
    });
  });

  describe(`the user's own setup with the import, on ${adapter}`, () => {
    let app: INestApplication | undefined;
    afterEach(async () => {
      await app?.close();
      app = undefined;
    });

    it('checks API keys: 401 problem+json without one, 200 with one, probes stay open', async () => {
      ({ app } = await createPlainApp(adapter, { API_KEYS: 'plain-secret-key-0123456789' }));
      const refused = await http(app).get('/notes/1').expect(401);
      expect(JSON.parse(refused.text)).toMatchObject({
        code: 'UNAUTHORIZED',
        correlationId: refused.headers['x-correlation-id'],
      });
      await http(app).get('/notes/1').set('X-API-Key', 'plain-secret-key-0123456789').expect(200);
      await http(app).get('/livez').expect(200);
    });

    it('keeps working under app.setGlobalPrefix() and the app’s own app.use(), our entry still first', async () => {
      ({ app } = await createPlainApp(
        adapter,
        { API_KEYS: 'plain-secret-key-0123456789' },
        (created) => {
          created.setGlobalPrefix('api');
          created.use(
            (
              request: { headers: Record<string, unknown> },
              response: { setHeader(n: string, v: string): void },
              next: () => void,
            ) => {
              // The user's middleware runs after the entry: the id is already there.
              response.setHeader(
                'x-seen-correlation-id',
                (request.headers['x-correlation-id'] as string | undefined) ?? 'minted',
              );
              next();
            },
          );
        },
      ));
      const response = await http(app)
        .get('/api/notes/7')
        .set('X-API-Key', 'plain-secret-key-0123456789')
        .set('X-Correlation-ID', 'prefixed-1')
        .expect(200);
      expect(response.headers['x-correlation-id']).toBe('prefixed-1');
      expect(response.headers['x-seen-correlation-id']).toBe('prefixed-1');
      expect(
        await countOf(
          app,
          /^http_requests_total\{method="GET",route="\/api\/notes\/:id",status_code="200"/,
          '/api/metrics',
        ),
      ).toBe(1);
      // The probes move with the prefix (Nest's rule) and stay public under it.
      await http(app).get('/api/livez').expect(200);
    });
  });
}

describe('two plain apps in one process', () => {
  it('do not see each other’s metrics, routes or keys', async () => {
    const express = await createPlainApp('express', {
      API_KEYS: 'express-key-0123456789abcdef',
      SERVICE_NAME: `app-one-${RUN}`,
    });
    const fastify = await createPlainApp('fastify', {
      API_KEYS: 'fastify-key-0123456789abcdef',
      SERVICE_NAME: `app-two-${RUN}`,
    });
    try {
      for (let index = 0; index < 3; index++) {
        await http(express.app)
          .get('/notes/1')
          .set('X-API-Key', 'express-key-0123456789abcdef')
          .expect(200);
      }
      await http(fastify.app)
        .get('/notes/1')
        .set('X-API-Key', 'fastify-key-0123456789abcdef')
        .expect(200);
      // Each app's key is its own.
      await http(express.app)
        .get('/notes/1')
        .set('X-API-Key', 'fastify-key-0123456789abcdef')
        .expect(401);
      await http(fastify.app)
        .get('/notes/1')
        .set('X-API-Key', 'express-key-0123456789abcdef')
        .expect(401);
      const route = /^http_requests_total\{method="GET",route="\/notes\/:id",status_code="200"/;
      expect(await countOf(express.app, route)).toBe(3);
      expect(await countOf(fastify.app, route)).toBe(1);
    } finally {
      await express.app.close();
      await fastify.app.close();
    }
  });
});
