import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { Server } from 'node:http';
import { Controller, Get, Req } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { Public } from 'nestjs-production-readiness';
import { Redis } from 'ioredis';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueServiceName, type HttpAgent } from '../support/essay-service.js';
import { sampleValue } from '../support/exposition.js';
import { freePort } from '../support/free-port.js';
import type { LogLine } from '../support/log-capture.js';
import { expectProblem } from '../support/problem-response.js';
import {
  startSecuredEssayService,
  type SecuredEssayService,
} from '../support/secured-essay-service.js';
import { waitFor } from '../support/wait-for.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const keyIdOf = (key: string) => sha256(key).slice(0, 8);

// Three clients: two plain keys (a rotation in progress) and one configured
// only by its hash, as API_KEYS would hold them.
const KEY = 'essay-client-key-2026-aaaa';
const ROTATED_KEY = 'essay-client-key-2026-bbbb';
const HASHED_KEY = 'hashed-client-key-2026-cccc';
const API_KEYS = `${KEY},${ROTATED_KEY},sha256:${sha256(HASHED_KEY)}`;
const SECRETS = [KEY, ROTATED_KEY, HASHED_KEY];

const ESSAY = { title: 'Security', text: 'The cat sat on the mat. It was happy.' };
const APP_ORIGIN = 'https://app.example.com';
const EVIL_ORIGIN = 'https://evil.example.net';
const REDIS_URL = 'redis://127.0.0.1:6379';
const USER_AGENT = 'security-e2e/1.0';

@Public()
@Controller('open')
class OpenController {
  @Get()
  open(): { open: boolean } {
    return { open: true };
  }
}

@Controller('mixed')
class MixedController {
  @Public()
  @Get('public')
  visible(): { visible: boolean } {
    return { visible: true };
  }

  @Get('private')
  hidden(): { hidden: boolean } {
    return { hidden: true };
  }
}

// One base controller's route methods, inherited by a public controller and
// a guarded one: the same functions, public in one and not in the other.
class ItemsController {
  @Get(':id')
  item(): { item: boolean } {
    return { item: true };
  }
}

@Public()
@Controller('open-items')
class OpenItemsController extends ItemsController {}

@Controller('closed-items')
class ClosedItemsController extends ItemsController {}

@Controller('configured')
class ConfiguredController {
  // Fastify's route config, set by the app: kept beside what the library adds.
  @RouteConfig({ purpose: 'audit' })
  @Get()
  configured(@Req() request: { routeOptions?: { config?: { purpose?: string } } }): {
    purpose: string | null;
  } {
    return { purpose: request.routeOptions?.config?.purpose ?? null };
  }
}

function expectUnauthorized(response: Response, detail: string, correlationId?: string): void {
  expectProblem(response, {
    status: 401,
    code: 'UNAUTHORIZED',
    title: 'Unauthorized',
    detail,
    instance: '/essays',
    correlationId,
  });
  expect(response.headers['www-authenticate']).toBe('ApiKey header="X-API-Key"');
}

const MISSING = 'An API key is required: send it in the X-API-Key header.';
const INVALID = 'The API key in the X-API-Key header is not valid.';

async function authFailures(http: HttpAgent, reason: string): Promise<number> {
  const { text } = await http.get('/metrics').expect(200);
  return sampleValue(text, 'auth_failures_total', { reason });
}

function submit(http: HttpAgent, key?: string) {
  const post = http.post('/essays').set('User-Agent', USER_AGENT);
  return (key === undefined ? post : post.set('X-API-Key', key)).send(ESSAY);
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'strict-transport-security': 'max-age=15552000; includeSubDomains',
  'referrer-policy': 'no-referrer',
};

describe.each(['express', 'fastify'] as const)('API keys on %s', (adapter) => {
  let service: SecuredEssayService;

  beforeAll(async () => {
    service = await startSecuredEssayService({
      adapter,
      env: { API_KEYS, SERVICE_NAME: uniqueServiceName('keys') },
      // This suite makes many failures from one address on purpose.
      security: { maxAuthFailures: 1_000 },
      controllers: [OpenController, MixedController, ConfiguredController],
    });
  });

  afterAll(() => service.close());

  it('refuses a request without a key: 401 problem+json naming the header in WWW-Authenticate', async () => {
    const response = await submit(service.http).set('X-Correlation-ID', 'no-key-1');

    expectUnauthorized(response, MISSING, 'no-key-1');
  });

  it.each([
    ['a wrong key', 'not-the-right-key-at-all-00'],
    ['a near miss, one character off', `${KEY.slice(0, -1)}b`],
    ['a key one character short', KEY.slice(0, -1)],
    ['a key one character long', `${KEY}a`],
    ['the key in other case', KEY.toUpperCase()],
    ['the stored hash itself', `sha256:${sha256(HASHED_KEY)}`],
    ['the stored hash without its prefix', sha256(HASHED_KEY)],
    ['two keys at once', `${KEY}, ${ROTATED_KEY}`],
  ])('refuses %s: 401 invalid', async (_name, wrong) => {
    const response = await submit(service.http, wrong);

    expectUnauthorized(response, INVALID);
  });

  it.each([
    ['a plain key', KEY],
    ['the second key of a rotation', ROTATED_KEY],
    ['a key configured by its sha256', HASHED_KEY],
  ])('accepts %s', async (_name, key) => {
    const response = await submit(service.http, key);

    expect(response.status).toBe(202);
  });

  it('never takes the key from the query string, the body or Authorization', async () => {
    const query = `api_key=${KEY}&apiKey=${KEY}&x-api-key=${KEY}&key=${KEY}`;
    const inQuery = await service.http.post(`/essays?${query}`).send(ESSAY);
    const inBody = await service.http.post('/essays').send({ ...ESSAY, apiKey: KEY });
    const asBearer = await service.http
      .post('/essays')
      .set('Authorization', `Bearer ${KEY}`)
      .send(ESSAY);

    for (const response of [inQuery, inBody, asBearer]) expectUnauthorized(response, MISSING);
    expect(inQuery.text).not.toContain(KEY);
  });

  it('records the key id, not the key, on the access line', async () => {
    const mark = service.logs.mark();
    const response = await submit(service.http, ROTATED_KEY).expect(202);
    const correlationId = response.headers['x-correlation-id'];

    const line = await service.logs.waitForLine(
      (candidate) =>
        candidate.msg === 'request completed' && candidate.correlationId === correlationId,
    );

    expect(line).toMatchObject({ status: 202, apiKeyId: keyIdOf(ROTATED_KEY) });
    const refused = await submit(service.http, 'wrong-key-for-the-access-log');
    const refusedLine = await service.logs.waitForLine(
      (candidate) =>
        candidate.msg === 'request completed' &&
        candidate.correlationId === refused.headers['x-correlation-id'],
    );
    expect(refusedLine).not.toHaveProperty('apiKeyId');
    expect(
      service.logs
        .since(mark)
        .map((logged) => JSON.stringify(logged))
        .join('\n'),
    ).not.toContain(ROTATED_KEY);
  });

  it('logs each refusal at warn with the address, user agent, route and reason', async () => {
    const wrong = `${KEY.slice(0, -1)}z`;
    const response = await submit(service.http, wrong);
    const correlationId = response.headers['x-correlation-id'];

    const line = await service.logs.waitForLine(
      (candidate) =>
        candidate.msg === 'Unauthorized API access attempt' &&
        candidate.correlationId === correlationId,
    );

    expect(line).toMatchObject({
      level: 'warn',
      context: 'Security',
      reason: 'invalid',
      ip: expect.stringMatching(/127\.0\.0\.1$/) as unknown,
      userAgent: USER_AGENT,
      method: 'POST',
      route: '/essays',
      presentedKeyId: keyIdOf(wrong),
    });
    expect(JSON.stringify(line)).not.toContain(wrong);
  });

  it('counts refusals in auth_failures_total by reason', async () => {
    const missingBefore = await authFailures(service.http, 'missing');
    const invalidBefore = await authFailures(service.http, 'invalid');

    await submit(service.http).expect(401);
    await submit(service.http, 'wrong-key-number-one-000').expect(401);
    await submit(service.http, 'wrong-key-number-two-000').expect(401);
    await submit(service.http, KEY).expect(202);

    expect(await authFailures(service.http, 'missing')).toBe(missingBefore + 1);
    expect(await authFailures(service.http, 'invalid')).toBe(invalidBefore + 2);
  });

  it('serves @Public() routes and controllers without a key, and guards the rest', async () => {
    await service.http.get('/open').expect(200, { open: true });
    await service.http.get('/mixed/public').expect(200, { visible: true });
    const hidden = await service.http.get('/mixed/private');
    expect(hidden.status).toBe(401);
    await service.http.get('/mixed/private').set('X-API-Key', KEY).expect(200, { hidden: true });
  });

  it('guards routes with parameters, and the HEAD twin of a GET route', async () => {
    const unknown = '/essays/00000000-0000-4000-8000-000000000000';
    expect((await service.http.get(unknown)).status).toBe(401);
    expect((await service.http.head(unknown)).status).toBe(401);
    expect((await service.http.head(unknown).set('X-API-Key', KEY)).status).toBe(404);
    const withKey = await service.http.get(unknown).set('X-API-Key', KEY);
    expect(withKey.status).toBe(404);
    expect(withKey.body).toMatchObject({ status: 404, code: 'NOT_FOUND', instance: unknown });
  });

  it("keeps a route's own Fastify route config", async () => {
    const response = await service.http.get('/configured').set('X-API-Key', KEY).expect(200);
    expect(response.body).toEqual({ purpose: adapter === 'fastify' ? 'audit' : null });
  });

  it('refuses a POST without a key before reading its body on Fastify, and after on Express', async () => {
    const socket = await rawConnection(service);
    // Headers announcing a body that never comes.
    socket.write(
      'POST /essays HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
        'Content-Length: 100000\r\nConnection: close\r\n\r\n{"title":',
    );
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    // Express reads the body before routing, so it still waits for it: the
    // connection is ended from this side after a while.
    const answered = await Promise.race([
      once(socket, 'close').then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1_500)),
    ]);
    socket.destroy();
    if (adapter === 'fastify') {
      expect(answered).toBe(true);
      expect(text).toMatch(/^HTTP\/1\.1 401 /);
      expect(text).toContain('application/problem+json');
      expect(text).toContain(MISSING);
    } else {
      expect(answered).toBe(false);
      expect(text).toBe('');
    }
  });

  it('serves the probes and /metrics without a key', async () => {
    for (const path of ['/livez', '/readyz', '/healthz', '/startupz', '/metrics']) {
      const response = await service.http.get(path);
      expect(response.status, path).toBe(200);
    }
  });

  it('leaves message handlers unguarded: a submitted essay is processed', async () => {
    const submitted = await submit(service.http, KEY).expect(202);
    const { id } = submitted.body as { id: string };

    const essay = await waitFor(
      async () => {
        const response = await service.http.get(`/essays/${id}`).set('X-API-Key', KEY);
        const shown = response.body as { status?: string };
        return shown.status === 'processed' ? shown : undefined;
      },
      5_000,
      { description: `essay ${id} to be processed`, intervalMs: 100 },
    );
    expect(essay.status).toBe('processed');
  });

  it('never shows a key in logs, errors, metrics or /healthz', async () => {
    await submit(service.http, KEY).expect(202);
    const refused = await submit(service.http, `${HASHED_KEY}x`);
    const metrics = await service.http.get('/metrics');
    const health = await service.http.get('/healthz');

    for (const secret of SECRETS) {
      expect(service.logs.text).not.toContain(secret);
      expect(refused.text).not.toContain(secret);
      expect(JSON.stringify(refused.headers)).not.toContain(secret);
      expect(metrics.text).not.toContain(secret);
      expect(health.text).not.toContain(secret);
    }
  });
});

describe.each(['express', 'fastify'] as const)('inherited routes on %s', (adapter) => {
  let service: SecuredEssayService;

  beforeAll(async () => {
    service = await startSecuredEssayService({
      adapter,
      env: { API_KEYS, SERVICE_NAME: uniqueServiceName('inherited') },
      controllers: [OpenItemsController, ClosedItemsController],
    });
  });

  afterAll(() => service.close());

  it('serves a method public in one controller and guards it in another', async () => {
    await service.http.get('/open-items/1').expect(200, { item: true });
    expect((await service.http.get('/closed-items/1')).status).toBe(401);
    await service.http.get('/closed-items/1').set('X-API-Key', KEY).expect(200, { item: true });
  });
});

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

describe.each(['express', 'fastify'] as const)('authentication off on %s', (adapter) => {
  it('serves every route without a key when API_KEYS is empty, and warns once at startup in production', async () => {
    const service = await startSecuredEssayService({ adapter, env: { ENVIRONMENT: 'production' } });
    try {
      await service.http.post('/essays').send(ESSAY).expect(202);

      const notices = service.logs.lines.filter((line) =>
        String(line.msg).startsWith('API key authentication is off'),
      );
      expect(notices).toEqual([expect.objectContaining({ level: 'warn' }) as unknown as LogLine]);
    } finally {
      await service.close();
    }
  });

  it('says so at info outside production', async () => {
    const service = await startSecuredEssayService({
      adapter,
      env: { ENVIRONMENT: 'development' },
    });
    try {
      const notice = service.logs.lines.find((line) =>
        String(line.msg).startsWith('API key authentication is off'),
      );
      expect(notice?.level).toBe('info');
    } finally {
      await service.close();
    }
  });
});

describe.each(['express', 'fastify'] as const)('repeated failures on %s', (adapter) => {
  let service: SecuredEssayService;

  beforeAll(async () => {
    service = await startSecuredEssayService({
      adapter,
      env: { API_KEYS: KEY },
      security: { maxAuthFailures: 3, failureWindowMs: 60_000 },
    });
  });

  afterAll(() => service.close());

  it('answers 429 with Retry-After after the allowed failures, even with the right key, while probes still answer', async () => {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await submit(service.http, `wrong-key-attempt-${attempt}-0000`)).status).toBe(401);
    }

    const refused = await submit(service.http, KEY).set('X-Correlation-ID', 'locked-out-1');

    expectProblem(refused, {
      status: 429,
      code: 'RATE_LIMITED',
      title: 'Too Many Requests',
      detail: /^Too many failed authentications from this address; retry after \d+ seconds\.$/,
      instance: '/essays',
      correlationId: 'locked-out-1',
    });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await submit(service.http)).status).toBe(429);
    await service.http.get('/livez').expect(200);
  });

  it('lets the address in again once the window has closed', async () => {
    const shortWindow = await startSecuredEssayService({
      adapter,
      env: { API_KEYS: KEY },
      security: { maxAuthFailures: 1, failureWindowMs: 500 },
    });
    try {
      expect((await submit(shortWindow.http)).status).toBe(401);
      expect((await submit(shortWindow.http, KEY)).status).toBe(429);

      await new Promise((resolve) => setTimeout(resolve, 600));

      expect((await submit(shortWindow.http, KEY)).status).toBe(202);
    } finally {
      await shortWindow.close();
    }
  });
});

describe('repeated failures counted in Redis', () => {
  const serviceName = uniqueServiceName('auth-limit');
  const redisKey = `auth-failures:${serviceName}:`;
  let express: SecuredEssayService;
  let fastify: SecuredEssayService;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    // Two replicas of one service, on either adapter, sharing REDIS_URL.
    const replica = async (adapter: 'express' | 'fastify') => {
      const started = await startSecuredEssayService({
        adapter,
        env: { API_KEYS: KEY, REDIS_URL, SERVICE_NAME: serviceName },
        security: { maxAuthFailures: 3, failureWindowMs: 30_000 },
      });
      // Ready means Redis answers: until then failures are counted per process.
      await waitFor(
        async () => ((await started.http.get('/readyz')).status === 200 ? true : undefined),
        5_000,
        { description: `the ${adapter} replica to be ready` },
      );
      return started;
    };
    // One after the other: each applies its environment to process.env while it starts.
    express = await replica('express');
    fastify = await replica('fastify');
  });

  afterAll(async () => {
    await Promise.all([express?.close(), fastify?.close()]);
    const keys = await redis.keys(`${redisKey}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('shares the limit across replicas: failures on one lock the address out of both', async () => {
    await submit(express.http, 'wrong-key-on-replica-a-01').expect(401);
    await submit(express.http, 'wrong-key-on-replica-a-02').expect(401);
    // Neither replica alone has seen three failures.
    await submit(fastify.http, KEY).expect(202);
    await submit(fastify.http, 'wrong-key-on-replica-b-01').expect(401);

    expect((await submit(express.http, KEY)).status).toBe(429);
    const fromOther = await submit(fastify.http, KEY);
    expect(fromOther.status).toBe(429);
    expect(Number(fromOther.headers['retry-after'])).toBeLessThanOrEqual(30);

    const [counted] = await redis.keys(`${redisKey}*`);
    expect(counted).toMatch(/127\.0\.0\.1$/);
    expect(await redis.get(counted)).toBe('3');
    const ttlMs = await redis.pttl(counted);
    expect(ttlMs).toBeGreaterThan(0);
    expect(ttlMs).toBeLessThanOrEqual(30_000);
  });

  it('keeps counting in the process while Redis is down, and says so', async () => {
    const closedPort = await freePort();
    const alone = await startSecuredEssayService({
      env: { API_KEYS: KEY, REDIS_URL: `redis://127.0.0.1:${closedPort}` },
      security: { maxAuthFailures: 2 },
    });
    try {
      await submit(alone.http).expect(401);
      await submit(alone.http).expect(401);

      expect((await submit(alone.http, KEY)).status).toBe(429);
      const warnings = alone.logs.lines.filter((line) =>
        String(line.msg).startsWith('Counting failed authentications in this process only'),
      );
      expect(warnings).toHaveLength(1);
      expect(warnings[0].level).toBe('warn');
    } finally {
      await alone.close();
    }
  });
});

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

/** Opens a raw connection to a listening app. */
async function rawConnection(app: SecuredEssayService): Promise<Socket> {
  const { port } = (app.app.getHttpServer() as Server).address() as { port: number };
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

/** Everything the server sends until it closes the connection, and how long that took. */
async function readUntilClosed(
  socket: Socket,
  timeoutMs: number,
): Promise<{ text: string; elapsedMs: number }> {
  const startedAt = Date.now();
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  const timer = setTimeout(
    () => socket.destroy(new Error('server kept the connection open')),
    timeoutMs,
  );
  try {
    await once(socket, 'close');
  } finally {
    clearTimeout(timer);
  }
  return { text, elapsedMs: Date.now() - startedAt };
}

describe.each(['express', 'fastify'] as const)('server limits on %s', (adapter) => {
  let service: SecuredEssayService;

  beforeAll(async () => {
    service = await startSecuredEssayService({
      adapter,
      serverLimits: {
        headersTimeoutMs: 400,
        requestTimeoutMs: 800,
        keepAliveTimeoutMs: 300,
        maxHeaderBytes: 4_096,
      },
    });
  });

  afterAll(() => service.close());

  it('sets them on the Node server', () => {
    const server = service.app.getHttpServer() as Server & { maxHeaderSize?: number };

    expect(server.headersTimeout).toBe(400);
    expect(server.requestTimeout).toBe(800);
    expect(server.keepAliveTimeout).toBe(300);
    expect(server.maxHeaderSize).toBe(4_096);
  });

  it('answers 408 and closes when the headers come too slowly', async () => {
    const socket = await rawConnection(service);
    socket.write('GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');

    const { text, elapsedMs } = await readUntilClosed(socket, 5_000);

    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(elapsedMs).toBeGreaterThanOrEqual(350);
  });

  it('answers 408 and closes when the body comes too slowly', async () => {
    const socket = await rawConnection(service);
    socket.write(
      'POST /essays HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"title":',
    );

    const { text, elapsedMs } = await readUntilClosed(socket, 5_000);

    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(elapsedMs).toBeGreaterThanOrEqual(750);
  });

  it('closes an idle keep-alive connection', async () => {
    const socket = await rawConnection(service);
    socket.write('GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');

    const { text, elapsedMs } = await readUntilClosed(socket, 5_000);

    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(elapsedMs).toBeLessThan(3_000);
  });

  it('answers 431 for headers over the limit', async () => {
    const response = await service.http.get('/livez').set('X-Large', 'x'.repeat(5_000));

    expect(response.status).toBe(431);
  });
});
