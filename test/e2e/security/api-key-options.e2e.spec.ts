import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startSecuredEssayService,
  type SecuredEssayService,
} from '../../support/secured-essay-service.js';
import { APP_ORIGIN, ESSAY, KEY, sha256 } from './security-app.js';

describe.each(['express', 'fastify'] as const)('API key options on %s', (adapter) => {
  const METRICS_KEY = 'prometheus-scraper-key-0001';
  let service: SecuredEssayService;

  beforeAll(async () => {
    service = await startSecuredEssayService({
      adapter,
      env: { API_KEYS: KEY, API_KEY_HEADER: 'X-Service-Token', CORS_ORIGINS: APP_ORIGIN },
      security: {
        metricsApiKeys: [`sha256:${sha256(METRICS_KEY)}`],
        cors: { credentials: true },
        headers: { hsts: false },
      },
    });
  });

  afterAll(() => service.close());

  it('reads the key from API_KEY_HEADER and names it in WWW-Authenticate', async () => {
    const inDefaultHeader = await service.http.post('/essays').set('X-API-Key', KEY).send(ESSAY);

    expect(inDefaultHeader.status).toBe(401);
    expect(inDefaultHeader.headers['www-authenticate']).toBe('ApiKey header="X-Service-Token"');
    expect(inDefaultHeader.body).toMatchObject({
      detail: 'An API key is required: send it in the X-Service-Token header.',
    });
    await service.http.post('/essays').set('X-Service-Token', KEY).send(ESSAY).expect(202);
  });

  it('guards /metrics with its own keys only, when they are set', async () => {
    expect((await service.http.get('/metrics')).status).toBe(401);
    expect((await service.http.get('/metrics').set('X-Service-Token', KEY)).status).toBe(401);
    const scraped = await service.http.get('/metrics').set('X-Service-Token', METRICS_KEY);
    expect(scraped.status).toBe(200);
    expect(scraped.text).toMatch(/^auth_failures_total\{/m);
    await service.http.get('/livez').expect(200);
  });

  it('allows the configured key header and credentials in CORS answers', async () => {
    const preflight = await service.http
      .options('/essays')
      .set('Origin', APP_ORIGIN)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'x-service-token, content-type');

    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-headers']).toBe(
      'X-Service-Token, X-Correlation-ID, Content-Type',
    );
    expect(preflight.headers['access-control-allow-credentials']).toBe('true');
    const simple = await service.http.get('/livez').set('Origin', APP_ORIGIN);
    expect(simple.headers['access-control-allow-credentials']).toBe('true');
    expect(simple.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
  });

  it('sends no HSTS when it is turned off, and the other headers still', async () => {
    const response = await service.http.get('/livez');

    expect(response.headers).not.toHaveProperty('strict-transport-security');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });
});
