import { Redis } from 'ioredis';
import { RedisConnection } from 'nestjs-production-readiness';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startEssayService,
  uniqueServiceName,
  type RunningEssayService,
} from '../support/essay-service.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { PrivateRedis } from '../support/redis-server.js';

const ESSAY = { title: 'Cats', text: 'The cat sat on the mat. It was happy!' };

describe('Idempotency-Key across replicas, and bounded waits, on PostgreSQL and Redis', () => {
  let database: TestDatabase;
  let redis: PrivateRedis;
  const running: RunningEssayService[] = [];
  const serviceName = uniqueServiceName('idempotency');

  const start = async (env: Record<string, string | undefined>) => {
    const service = await startEssayService({
      env: { DATABASE_URL: database.url, SERVICE_NAME: serviceName, ...env },
    });
    running.push(service);
    return service;
  };
  const essayRows = async () =>
    Number((await database.query<{ n: string }>('SELECT count(*) AS n FROM essays'))[0].n);

  beforeAll(async () => {
    database = await createTestDatabase('resilience_idempotency');
    redis = await PrivateRedis.start();
  });

  afterAll(async () => {
    for (const service of running) await service.close();
    await redis?.stop();
    await database?.drop();
  });

  it('with REDIS_URL, a retry sent to another replica gets the first answer; another body gets 409', async () => {
    const [a, b] = [await start({ REDIS_URL: redis.url }), await start({ REDIS_URL: redis.url })];
    const before = await essayRows();

    const first = await a.http.post('/essays').set('Idempotency-Key', 'redis-1').send(ESSAY);
    const retry = await b.http.post('/essays').set('Idempotency-Key', 'redis-1').send(ESSAY);
    const other = await b.http
      .post('/essays')
      .set('Idempotency-Key', 'redis-1')
      .send({ ...ESSAY, title: 'Dogs' });

    expect(first.status).toBe(202);
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ code: 'CONFLICT' });
    expect(await essayRows()).toBe(before + 1);

    const probe = new Redis(redis.url);
    try {
      const keys = await probe.keys('essay-service:idempotency:*');
      expect(keys).toHaveLength(1);
      // The answer is kept for IDEMPOTENCY_KEY_TTL_MS (24 h by default).
      expect(await probe.pttl(keys[0])).toBeGreaterThan(23 * 3_600_000);
    } finally {
      probe.disconnect();
    }
    await Promise.all([a.close(), b.close()]);
  });

  it('without Redis, keys live in the database: concurrent retries on two replicas create one essay', async () => {
    const [a, b] = [await start({}), await start({})];
    const before = await essayRows();

    const answers = await Promise.all(
      [a, b, a, b, a, b].map((service) =>
        service.http.post('/essays').set('Idempotency-Key', 'db-1').send(ESSAY),
      ),
    );

    const statuses = answers.map((answer) => answer.status);
    // One runs; the others replay it or, while it still runs, get 409 and retry later.
    expect(statuses.every((status) => status === 202 || status === 409)).toBe(true);
    const accepted = answers.filter((answer) => answer.status === 202);
    expect(new Set(accepted.map((answer) => (answer.body as { id: string }).id)).size).toBe(1);
    const late = await b.http.post('/essays').set('Idempotency-Key', 'db-1').send(ESSAY);
    expect(late.status).toBe(202);
    expect(late.body).toEqual(accepted[0].body);
    expect(await essayRows()).toBe(before + 1);
    const [row] = await database.query<{ expires_at: Date; response: string }>(
      'SELECT expires_at, response FROM idempotency_keys',
    );
    expect(JSON.parse(row.response)).toMatchObject({ status: 202 });
    expect(row.expires_at.getTime()).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    await Promise.all([a.close(), b.close()]);
  });

  it('sets statement_timeout and the Redis command timeout from config: no unbounded waits', async () => {
    const service = await start({
      REDIS_URL: redis.url,
      DATABASE_STATEMENT_TIMEOUT_MS: '500',
      REDIS_COMMAND_TIMEOUT_MS: '300',
    });
    const dataSource = service.app.get(DataSource);
    expect(await dataSource.query('SHOW statement_timeout')).toEqual([
      { statement_timeout: '500ms' },
    ]);
    const slowQuery = await dataSource.query('SELECT pg_sleep(3)').then(
      () => undefined,
      (error: { driverError?: { code?: string } }) => error.driverError?.code,
    );
    expect(slowQuery).toBe('57014');

    const client = service.app.get(RedisConnection).client!;
    const admin = new Redis(redis.url);
    try {
      await admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
      const startedAt = performance.now();
      await expect(client.get('anything')).rejects.toThrow(/Command timed out/);
      expect(performance.now() - startedAt).toBeLessThan(1_000);
    } finally {
      admin.disconnect();
    }
  });
});
