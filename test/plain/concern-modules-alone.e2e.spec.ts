import type { Server } from 'node:http';
import { Controller, Get, Injectable, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ErrorsModule,
  HealthModule,
  HttpClient,
  HttpClientModule,
  LoggingModule,
  MetricsModule,
  ResilienceModule,
  ResiliencePolicies,
  SecurityModule,
} from 'nestjs-production-readiness';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { withEnv } from '../support/essay-service.js';
import { LogCapture } from '../support/log-capture.js';
import { RUN } from './plain-env.js';
import { initTestingApp } from '../support/testing-app.js';

// Each concern module imported alone, as the README says it can be: no
// ProductionReadinessModule, no ServiceConfigModule. The config comes from
// the environment (SERVICE_NAME and SERVICE_VERSION from package.json).
const API_KEY = `alone-key-${RUN}-0123456789`;

@Controller()
class NotesController {
  @Get()
  hello(): string {
    return 'Hello World!';
  }

  @Get('notes/:id')
  note(): { id: string } {
    return { id: 'n1' };
  }
}

type Adapter = 'express' | 'fastify';

async function appWith(
  adapter: Adapter,
  imports: NonNullable<Parameters<typeof Module>[0]>['imports'],
  env: Record<string, string | undefined> = {},
  providers: NonNullable<Parameters<typeof Module>[0]>['providers'] = [],
): Promise<INestApplication> {
  return withEnv({ API_KEYS: undefined, REDIS_URL: undefined, ...env }, async () => {
    const moduleFixture = await Test.createTestingModule({
      imports,
      controllers: [NotesController],
      providers,
    }).compile();
    return initTestingApp(moduleFixture, adapter);
  });
}

const http = (app: INestApplication) => request(app.getHttpServer() as Server);

for (const adapter of ['express', 'fastify'] as const) {
  describe(`each concern module alone, on ${adapter}`, () => {
    let app: INestApplication | undefined;
    afterEach(async () => {
      await app?.close();
      app = undefined;
    });

    it('LoggingModule writes the access line with the correlation id', async () => {
      const logs = new LogCapture();
      app = await appWith(adapter, [LoggingModule.forRoot({ destination: logs.destination })]);

      const response = await http(app).get('/notes/7').set('X-Correlation-ID', 'alone-log-1');

      expect(response.status).toBe(200);
      expect(response.headers['x-correlation-id']).toBe('alone-log-1');
      const line = await logs.waitForLine(
        (entry) => entry.correlationId === 'alone-log-1' && 'status' in entry,
      );
      expect(line).toMatchObject({ method: 'GET', status: 200 });
      expect(typeof line.service).toBe('string');
    });

    it('MetricsModule counts HTTP requests at /metrics', async () => {
      app = await appWith(adapter, [MetricsModule.forRoot()]);

      await http(app).get('/notes/7').expect(200);
      const exposition = await http(app).get('/metrics').expect(200);

      expect(exposition.text).toMatch(
        /^http_requests_total\{[^}]*route="\/notes\/:id"[^}]*status_code="200"[^}]*\} 1$/m,
      );
    });

    it('SecurityModule refuses a request without the API key with a 401 problem', async () => {
      app = await appWith(adapter, [SecurityModule.forRoot()], { API_KEYS: API_KEY });

      const refused = await http(app).get('/notes/7').set('X-Correlation-ID', 'alone-sec-1');
      expect(refused.status).toBe(401);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(refused.body).toMatchObject({ status: 401, correlationId: 'alone-sec-1' });

      await http(app).get('/notes/7').set('X-API-Key', API_KEY).expect(200);
      // The security headers are SecurityModule's too.
      expect(refused.headers['x-content-type-options']).toBe('nosniff');
    });

    it('ErrorsModule answers an unknown route with a 404 problem carrying the correlation id', async () => {
      app = await appWith(adapter, [ErrorsModule.forRoot()]);

      const missing = await http(app).get('/nowhere').set('X-Correlation-ID', 'alone-err-1');

      expect(missing.status).toBe(404);
      expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(missing.body).toMatchObject({ status: 404, correlationId: 'alone-err-1' });
    });

    it('HealthModule serves the probes', async () => {
      app = await appWith(adapter, [HealthModule.forRoot()]);

      await http(app).get('/livez').expect(200);
      const ready = await http(app).get('/readyz').expect(200);
      expect(ready.body).toMatchObject({ status: 'pass' });
    });

    // ShutdownModule alone is driven by real signals in plain-app.process.spec.ts.

    it('ResilienceModule and HttpClientModule give their services', async () => {
      @Injectable()
      class Caller {
        constructor(
          readonly policies: ResiliencePolicies,
          readonly client: HttpClient,
        ) {}
      }
      app = await appWith(
        adapter,
        [
          ResilienceModule.forRoot({ policies: { notes: { retry: { maxAttempts: 3 } } } }),
          HttpClientModule.forRoot(),
        ],
        {},
        [Caller],
      );
      const target = await app.listen(0, '127.0.0.1').then(() => {
        const address = (app!.getHttpServer() as Server).address();
        return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      });
      const caller = app.get(Caller);

      // A transient failure, then success: the policy retries it.
      let attempts = 0;
      const result = await caller.policies.execute(
        'notes',
        () => {
          attempts += 1;
          if (attempts === 1) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
          return 'done';
        },
        { idempotent: true },
      );
      const response = await caller.client.get(`${target}/notes/7`);

      expect({ result, attempts }).toEqual({ result: 'done', attempts: 2 });
      expect(response.status).toBe(200);
      expect(response.json()).toEqual({ id: 'n1' });
    });
  });
}
