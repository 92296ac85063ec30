import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueServiceName } from '../../support/essay-service.js';
import { freePort } from '../../support/free-port.js';
import { expectProblem } from '../../support/problem-response.js';
import {
  startSecuredEssayService,
  type SecuredEssayService,
} from '../../support/secured-essay-service.js';
import { waitFor } from '../../support/wait-for.js';
import { KEY, submit } from './security-app.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

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
