import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpAgent } from '../../support/essay-service.js';
import {
  startSecuredEssayService,
  type SecuredEssayService,
} from '../../support/secured-essay-service.js';
import { APP_ORIGIN, EVIL_ORIGIN, KEY, SECURITY_HEADERS, submit } from './security-app.js';

describe.each(['express', 'fastify'] as const)('security headers on %s', (adapter) => {
  let service: SecuredEssayService;

  beforeAll(async () => {
    service = await startSecuredEssayService({
      adapter,
      env: { API_KEYS: KEY, CORS_ORIGINS: APP_ORIGIN },
    });
  });

  afterAll(() => service.close());

  it.each<[string, (http: HttpAgent) => PromiseLike<Response>, number]>([
    ['a probe', (http) => http.get('/livez'), 200],
    ['an accepted essay', (http) => submit(http, KEY), 202],
    ['an unknown route', (http) => http.get('/no/such/route'), 404],
    ['a missing key', (http) => submit(http), 401],
    ['a refused origin', (http) => http.get('/livez').set('Origin', EVIL_ORIGIN), 403],
    [
      'a body over the limit',
      (http) =>
        http
          .post('/essays')
          .set('X-API-Key', KEY)
          .send({ title: 'Big', text: 'x'.repeat(1_100_000) }),
      413,
    ],
    [
      'a body that is not JSON',
      (http) =>
        http.post('/essays').set('X-API-Key', KEY).set('Content-Type', 'text/plain').send('hi'),
      415,
    ],
    [
      'a preflight',
      (http) =>
        http
          .options('/essays')
          .set('Origin', APP_ORIGIN)
          .set('Access-Control-Request-Method', 'POST'),
      204,
    ],
  ])('sets them on %s, and no X-Powered-By', async (_name, send, status) => {
    const response = await send(service.http);

    expect(response.status).toBe(status);
    expect(response.headers).toMatchObject(SECURITY_HEADERS);
    expect(response.headers).not.toHaveProperty('x-powered-by');
  });
});
