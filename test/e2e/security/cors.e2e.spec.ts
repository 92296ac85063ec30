import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../../support/problem-response.js';
import {
  startSecuredEssayService,
  type SecuredEssayService,
} from '../../support/secured-essay-service.js';
import { APP_ORIGIN, EVIL_ORIGIN, KEY, SECURITY_HEADERS, submit } from './security-app.js';

describe.each(['express', 'fastify'] as const)('CORS on %s', (adapter) => {
  let service: SecuredEssayService;

  beforeAll(async () => {
    service = await startSecuredEssayService({
      adapter,
      env: { API_KEYS: KEY, CORS_ORIGINS: `${APP_ORIGIN},http://localhost:5173` },
    });
  });

  afterAll(() => service.close());

  it('answers an allowed origin with itself, Vary: Origin and the exposed headers', async () => {
    const response = await submit(service.http, KEY).set('Origin', APP_ORIGIN);

    expect(response.status).toBe(202);
    expect(response.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(response.headers.vary).toMatch(/\bOrigin\b/);
    expect(response.headers['access-control-expose-headers']).toBe(
      'X-Correlation-ID, Location, Retry-After',
    );
    expect(response.headers).not.toHaveProperty('access-control-allow-credentials');
  });

  it('lets an allowed origin read a 401 too', async () => {
    const response = await submit(service.http).set('Origin', APP_ORIGIN);

    expect(response.status).toBe(401);
    expect(response.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
  });

  it.each(['/essays', '/essays/6f1c2a4e-3b7d-4c9a-8e2f-1a2b3c4d5e6f', '/no/route/here'])(
    'answers a preflight for %s with 204, our headers and a max age, without a key',
    async (path) => {
      const response = await service.http
        .options(path)
        .set('Origin', 'http://localhost:5173')
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'x-api-key, content-type, x-correlation-id');

      expect(response.status).toBe(204);
      expect(response.text).toBe('');
      expect(response.headers).toMatchObject({
        'access-control-allow-origin': 'http://localhost:5173',
        'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE',
        'access-control-allow-headers': 'X-API-Key, X-Correlation-ID, Content-Type',
        'access-control-max-age': '600',
        ...SECURITY_HEADERS,
      });
      expect(response.headers.vary).toMatch(/\bOrigin\b/);
      expect(response.headers['x-correlation-id']).toBeTruthy();
    },
  );

  it('refuses a request from another origin: 403 problem+json, logged at warn', async () => {
    const response = await service.http
      .get('/livez')
      .set('Origin', EVIL_ORIGIN)
      .set('X-Correlation-ID', 'cors-refused-1');

    expectProblem(response, {
      status: 403,
      code: 'FORBIDDEN',
      title: 'Forbidden',
      detail: 'Cross-origin requests from this origin are not allowed.',
      instance: '/livez',
      correlationId: 'cors-refused-1',
    });
    expect(response.headers).not.toHaveProperty('access-control-allow-origin');
    const line = await service.logs.waitForLine(
      (candidate) =>
        candidate.msg === 'CORS violation detected' && candidate.correlationId === 'cors-refused-1',
    );
    expect(line).toMatchObject({
      level: 'warn',
      origin: EVIL_ORIGIN,
      method: 'GET',
      path: '/livez',
      allowedOrigins: [APP_ORIGIN, 'http://localhost:5173'],
    });
  });

  it.each([
    ['another origin', EVIL_ORIGIN],
    ['another scheme', 'http://app.example.com'],
    ['another port', 'https://app.example.com:8443'],
    ['a look-alike', 'https://app.example.com.evil.net'],
    ['null', 'null'],
  ])('refuses a preflight from %s with 403 and no CORS headers', async (_name, origin) => {
    const response = await service.http
      .options('/essays')
      .set('Origin', origin)
      .set('Access-Control-Request-Method', 'POST');

    expect(response.status).toBe(403);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.headers).not.toHaveProperty('access-control-allow-origin');
    expect(response.headers).not.toHaveProperty('access-control-allow-methods');
  });

  it('lets requests without Origin through: they are not CORS', async () => {
    const response = await submit(service.http, KEY);

    expect(response.status).toBe(202);
    expect(response.headers).not.toHaveProperty('access-control-allow-origin');
    expect(response.headers.vary).toMatch(/\bOrigin\b/);
  });

  it("lets a browser's same-origin request through without CORS headers", async () => {
    const response = await submit(service.http, KEY).set('Origin', service.baseUrl);

    expect(response.status).toBe(202);
    expect(response.headers).not.toHaveProperty('access-control-allow-origin');
  });
});
