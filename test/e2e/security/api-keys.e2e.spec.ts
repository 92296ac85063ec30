import { once } from 'node:events';
import { Controller, Get, Req } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { Public } from 'nestjs-production-readiness';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueServiceName, type HttpAgent } from '../../support/essay-service.js';
import { sampleValue } from '../../support/exposition.js';
import type { LogLine } from '../../support/log-capture.js';
import { expectProblem } from '../../support/problem-response.js';
import {
  startSecuredEssayService,
  type SecuredEssayService,
} from '../../support/secured-essay-service.js';
import { waitFor } from '../../support/wait-for.js';
import { ESSAY, KEY, rawConnection, sha256, submit, USER_AGENT } from './security-app.js';

const keyIdOf = (key: string) => sha256(key).slice(0, 8);

// Three clients: two plain keys, KEY and ROTATED_KEY (a rotation in progress),
// and one configured only by its hash, as API_KEYS would hold them.
const ROTATED_KEY = 'essay-client-key-2026-bbbb';
const HASHED_KEY = 'hashed-client-key-2026-cccc';
const API_KEYS = `${KEY},${ROTATED_KEY},sha256:${sha256(HASHED_KEY)}`;
const SECRETS = [KEY, ROTATED_KEY, HASHED_KEY];

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
