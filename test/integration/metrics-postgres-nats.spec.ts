import { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  startEssayService,
  submitEssay,
  uniqueServiceName,
  waitForProcessed,
  type RunningEssayService,
} from '../support/essay-service.js';
import { sampleValue } from '../support/exposition.js';
import { NATS_URL } from '../support/nats.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { waitFor } from '../support/wait-for.js';

const POOL_SIZE = 6;
const IN_FLIGHT = 4;

describe('metrics against real PostgreSQL and NATS', () => {
  const serviceName = uniqueServiceName('metrics');
  let database: TestDatabase;
  let service: RunningEssayService | undefined;

  beforeAll(async () => {
    database = await createTestDatabase('essays_metrics');
  });

  afterEach(async () => {
    await service?.close();
    service = undefined;
  });

  afterAll(async () => {
    await database?.drop();
  });

  const scrape = async () => (await service!.http.get('/metrics').expect(200)).text;

  it('shows the real pool in database_connections_*: in use while queries run, idle after', async () => {
    service = await startEssayService({
      env: {
        DATABASE_URL: database.url,
        DATABASE_POOL_SIZE: String(POOL_SIZE),
        DATABASE_MAX_OVERFLOW: '0',
        NATS_URL,
        SERVICE_NAME: serviceName,
      },
    });
    const dataSource = service.app.get(DataSource);

    const queries = Array.from({ length: IN_FLIGHT }, () =>
      dataSource.query('SELECT pg_sleep(1.5)'),
    );
    try {
      const during = await waitFor(async () => {
        const text = await scrape();
        return sampleValue(text, 'database_connections_active', { pool: 'default' }) >= IN_FLIGHT
          ? text
          : undefined;
      }, 5_000);
      expect(sampleValue(during, 'database_connections_active', { pool: 'default' })).toBe(
        IN_FLIGHT,
      );
      expect(sampleValue(during, 'database_connections_max', { pool: 'default' })).toBe(POOL_SIZE);
      expect(sampleValue(during, 'database_connections_waiting', { pool: 'default' })).toBe(0);
    } finally {
      await Promise.all(queries);
    }

    const after = await scrape();
    expect(sampleValue(after, 'database_connections_active', { pool: 'default' })).toBe(0);
    expect(
      sampleValue(after, 'database_connections_idle', { pool: 'default' }),
    ).toBeGreaterThanOrEqual(IN_FLIGHT);
  });

  it('counts callers waiting for a connection when the pool is exhausted', async () => {
    service = await startEssayService({
      env: {
        DATABASE_URL: database.url,
        DATABASE_POOL_SIZE: '2',
        DATABASE_MAX_OVERFLOW: '0',
        // The waiters must still be waiting when counted: past the 2 s default they fail (503).
        DATABASE_ACQUIRE_TIMEOUT_MS: '10000',
        NATS_URL,
        SERVICE_NAME: serviceName,
      },
    });
    const dataSource = service.app.get(DataSource);

    const queries = Array.from({ length: 5 }, () => dataSource.query('SELECT pg_sleep(1)'));
    try {
      const text = await waitFor(async () => {
        const scraped = await scrape();
        return sampleValue(scraped, 'database_connections_waiting', { pool: 'default' }) === 3
          ? scraped
          : undefined;
      }, 5_000);
      expect(sampleValue(text, 'database_connections_active', { pool: 'default' })).toBe(2);
    } finally {
      await Promise.all(queries);
    }
  });

  it('counts handled messages over NATS by transport, pattern and outcome', async () => {
    service = await startEssayService({
      env: { DATABASE_URL: database.url, NATS_URL, SERVICE_NAME: serviceName },
    });
    const labels = { transport: 'nats', pattern: 'essay.submitted', outcome: 'success' };
    const before = sampleValue(await scrape(), 'messages_handled_total', labels);

    const ids = await Promise.all(
      [1, 2, 3].map((n) =>
        submitEssay(service!.http, { title: `M${n}`, text: 'Counted words here.' }),
      ),
    );
    await Promise.all(ids.map((id) => waitForProcessed(service!.http, id)));

    const text = await waitFor(async () => {
      const scraped = await scrape();
      return sampleValue(scraped, 'messages_handled_total', labels) - before >= 3
        ? scraped
        : undefined;
    }, 10_000);
    expect(sampleValue(text, 'messages_handled_total', labels) - before).toBe(3);
    expect(
      sampleValue(text, 'message_handling_duration_seconds_count', labels),
    ).toBeGreaterThanOrEqual(3);
  });
});
