import type { Server } from 'node:http';
import {
  Controller,
  Get,
  Injectable,
  Module,
  NotFoundException,
  type DynamicModule,
  type INestApplication,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ApiKeyGuard,
  ProductionReadinessModule,
  type GuardedRequest,
} from 'nestjs-production-readiness';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { withEnv } from '../support/test-env.js';
import { LogCapture } from '../support/log-capture.js';
import { PLAIN_ENV, RUN } from './plain-env.js';
import { initTestingApp } from '../support/testing-app.js';
import { AuthorizationApiKeyGuard, SupportLinkProblemFilter } from './src/extended.module.js';

// The documented extension points, used the way an app would: a subclass of
// ApiKeyGuard (`security.apiKeyGuard`) and of ProblemExceptionFilter
// (`errors.exceptionFilter`), given to ProductionReadinessModule.
const API_KEY = `extension-key-${RUN}-0123456789`;

/** Counts failed authentications per tenant, not per client address. */
@Injectable()
class TenantApiKeyGuard extends ApiKeyGuard {
  protected override getTracker(request: GuardedRequest): string {
    const tenant = request.headers['x-tenant'];
    return `tenant:${typeof tenant === 'string' ? tenant : 'none'}`;
  }
}

@Controller()
class NotesController {
  @Get('notes')
  notes(): string[] {
    return ['n1'];
  }

  @Get('notes/missing')
  missing(): never {
    throw new NotFoundException('No such note.');
  }
}

type Adapter = 'express' | 'fastify';

async function createApp(
  adapter: Adapter,
  productionReadiness: (logs: LogCapture) => DynamicModule,
): Promise<INestApplication> {
  const logs = new LogCapture();
  @Module({ imports: [productionReadiness(logs)], controllers: [NotesController] })
  class AppModule {}
  return withEnv({ ...PLAIN_ENV, REDIS_URL: undefined, API_KEYS: API_KEY }, async () => {
    const moduleFixture = await Test.createTestingModule({ imports: [AppModule] }).compile();
    return initTestingApp(moduleFixture, adapter);
  });
}

const http = (app: INestApplication) => request(app.getHttpServer() as Server);

for (const adapter of ['express', 'fastify'] as const) {
  describe(`extension points, on ${adapter}`, () => {
    let app: INestApplication | undefined;
    afterEach(async () => {
      await app?.close();
      app = undefined;
    });

    for (const style of ['forRoot', 'forRootAsync'] as const) {
      it(`an ApiKeyGuard subclass counts failures by its own tracker (${style})`, async () => {
        const security = { apiKeyGuard: TenantApiKeyGuard, maxAuthFailures: 2 };
        app = await createApp(adapter, (logs) =>
          style === 'forRoot'
            ? ProductionReadinessModule.forRoot({
                security,
                logging: { destination: logs.destination },
              })
            : ProductionReadinessModule.forRootAsync({
                useFactory: () => ({ security, logging: { destination: logs.destination } }),
              }),
        );

        await http(app).get('/notes').set('x-tenant', 'acme').set('x-api-key', 'wrong').expect(401);
        await http(app).get('/notes').set('x-tenant', 'acme').expect(401);
        // acme is locked out, its right key or not...
        const locked = await http(app)
          .get('/notes')
          .set('x-tenant', 'acme')
          .set('x-api-key', API_KEY)
          .expect(429);
        expect(locked.headers['retry-after']).toMatch(/^\d+$/);
        // ...while another tenant from the same address is still served.
        await http(app)
          .get('/notes')
          .set('x-tenant', 'globex')
          .set('x-api-key', API_KEY)
          .expect(200, ['n1']);
        await http(app).get('/notes').set('x-tenant', 'globex').expect(401);
      });
    }

    it('an ApiKeyGuard subclass reads the key its own way', async () => {
      app = await createApp(adapter, (logs) =>
        ProductionReadinessModule.forRoot({
          security: { apiKeyGuard: AuthorizationApiKeyGuard },
          logging: { destination: logs.destination },
        }),
      );

      await http(app).get('/notes').set('authorization', `ApiKey ${API_KEY}`).expect(200, ['n1']);
      await http(app).get('/notes').set('x-api-key', API_KEY).expect(200, ['n1']);
      const refused = await http(app)
        .get('/notes')
        .set('authorization', 'ApiKey wrong-key-0123456789')
        .expect(401);
      expect(refused.body).toMatchObject({ code: 'UNAUTHORIZED' });
      await http(app).get('/notes').set('authorization', `Bearer ${API_KEY}`).expect(401);
    });

    for (const style of ['forRoot', 'forRootAsync'] as const) {
      it(`a ProblemExceptionFilter subclass changes the answer, still a problem (${style})`, async () => {
        const errors = { exceptionFilter: SupportLinkProblemFilter };
        app = await createApp(adapter, (logs) =>
          style === 'forRoot'
            ? ProductionReadinessModule.forRoot({
                errors,
                logging: { destination: logs.destination },
              })
            : ProductionReadinessModule.forRootAsync({
                useFactory: () => ({ errors, logging: { destination: logs.destination } }),
              }),
        );

        const response = await http(app)
          .get('/notes/missing')
          .set('x-api-key', API_KEY)
          .set('x-correlation-id', `extension-${style}`)
          .expect(404);
        expect(response.headers.link).toBe('<https://support.example.com>');
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(response.headers['x-correlation-id']).toBe(`extension-${style}`);
        expect(response.body).toMatchObject({
          status: 404,
          detail: 'No such note.',
          correlationId: `extension-${style}`,
        });

        // The library's own refusals go through it too (the key check's 401).
        const refused = await http(app).get('/notes').expect(401);
        expect(refused.headers.link).toBe('<https://support.example.com>');
        expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      });
    }
  });
}
