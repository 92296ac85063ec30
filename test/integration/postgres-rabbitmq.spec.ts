import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  essayRows,
  expectProcessedResults,
  submitEssays,
  waitForProcessedRows,
} from '../support/essay-rows.js';
import {
  startEssayService,
  submitEssay,
  uniqueServiceName,
  waitForProcessed,
  type RunningEssayService,
} from '../support/essay-service.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { deleteQueue, RABBITMQ_URL } from '../support/rabbitmq.js';

const SLOW_ANALYSIS_MS = 3_000;

describe('essay service on PostgreSQL and RabbitMQ', () => {
  // SERVICE_NAME is the queue: one of its own, so no other test file consumes these essays.
  const serviceName = uniqueServiceName('rmq');
  let database: TestDatabase;
  const running: RunningEssayService[] = [];

  const start = async (settings: Record<string, string> = {}) => {
    const service = await startEssayService({
      env: {
        DATABASE_URL: database.url,
        RABBITMQ_URL,
        SERVICE_NAME: serviceName,
        ESSAY_REDELIVERY_INTERVAL_MS: '1000',
        ...settings,
      },
    });
    running.push(service);
    return service;
  };

  beforeAll(async () => {
    database = await createTestDatabase('essays_rmq');
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((service) => service.close()));
  });

  afterAll(async () => {
    await database?.drop();
    await deleteQueue(serviceName);
  });

  it('migrates the schema and processes an accepted essay over RabbitMQ', async () => {
    const service = await start();
    const migrations = await database.query<{ name: string }>('SELECT name FROM migrations');
    expect(migrations).toContainEqual({ name: 'CreateEssays1732636800000' });

    const id = await submitEssay(service.http, { title: 'Stored', text: 'One. Two three four.' });
    const [stored] = await database.query('SELECT title FROM essays WHERE id = $1', [id]);
    expect(stored).toEqual({ title: 'Stored' });

    const essay = await waitForProcessed(service.http, id);
    expect(essay.results).toMatchObject({ wordCount: 4, sentenceCount: 2 });
    const [row] = await database.query('SELECT status, word_count FROM essays WHERE id = $1', [id]);
    expect(row).toEqual({ status: 'processed', word_count: 4 });
  });

  it('processes, after a restart, every essay accepted before a graceful close, exactly once', async () => {
    const first = await start({ ESSAY_ANALYSIS_DELAY_MS: String(SLOW_ANALYSIS_MS) });
    const essays = await submitEssays(first.http, 5);
    await first.close();
    const closedAt = Date.now();

    const afterClose = await essayRows(database, essays);
    expect(afterClose.map(({ status }) => status)).toEqual(essays.map(() => 'pending'));

    await start({ ESSAY_ANALYSIS_DELAY_MS: '0' });
    const processed = await waitForProcessedRows(database, essays, 10_000);
    expectProcessedResults(processed, essays);

    // The first instance's handlers were still sleeping when it closed. Once
    // they would have woken, and the second instance has swept again, no
    // essay has been processed a second time.
    await sleep(Math.max(closedAt + SLOW_ANALYSIS_MS + 500 - Date.now(), 1_200));
    expect(await essayRows(database, essays)).toEqual(processed);
  });
});
