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
import {
  ensureBuilt,
  spawnEssayService,
  type EssayServiceProcess,
} from '../support/essay-service-process.js';
import { NATS_URL } from '../support/nats.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { deleteQueue, RABBITMQ_URL } from '../support/rabbitmq.js';

const SLOW_ANALYSIS_MS = 3_000;

interface BrokerCase {
  name: string;
  kind: 'nats' | 'rabbitmq';
  /** Prefix of the service and database names, so each broker has its own. */
  label: string;
  env: Record<string, string>;
  /** Removes what the broker keeps after the service is gone. */
  cleanUp?: (serviceName: string) => Promise<void>;
}

const BROKERS: BrokerCase[] = [
  { name: 'NATS', kind: 'nats', label: 'nats', env: { NATS_URL } },
  {
    name: 'RabbitMQ',
    kind: 'rabbitmq',
    label: 'rmq',
    env: { RABBITMQ_URL },
    // SERVICE_NAME is a durable queue, which RabbitMQ keeps after its consumers leave.
    cleanUp: (serviceName) => deleteQueue(serviceName),
  },
];

describe.each(BROKERS)('essay service on PostgreSQL and $name', (broker) => {
  // SERVICE_NAME names the RabbitMQ queue and the NATS queue group: one of its
  // own, so no other test file consumes these essays.
  const serviceName = uniqueServiceName(broker.label);
  let database: TestDatabase;
  const running: Array<RunningEssayService | EssayServiceProcess> = [];

  const envFor = (settings: Record<string, string> = {}) => ({
    DATABASE_URL: database.url,
    ...broker.env,
    SERVICE_NAME: serviceName,
    ESSAY_REDELIVERY_INTERVAL_MS: '1000',
    ...settings,
  });
  const start = async (settings: Record<string, string> = {}) => {
    const service = await startEssayService({ env: envFor(settings) });
    running.push(service);
    return service;
  };
  const stopAll = () =>
    Promise.all(
      running.splice(0).map((service) => ('kill' in service ? service.kill() : service.close())),
    );

  beforeAll(async () => {
    database = await createTestDatabase(`essays_${broker.label}`);
  });

  afterEach(async () => {
    // Every instance is gone before the next test, so none consumes its essays.
    await stopAll();
  });

  afterAll(async () => {
    await database?.drop();
    await broker.cleanUp?.(serviceName);
  });

  it('creates the schema by migration: the essays table and TypeORM’s migrations table', async () => {
    await start();

    const tables = await database.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(tables.map(({ table_name }) => table_name)).toEqual(
      expect.arrayContaining(['essays', 'migrations']),
    );
    const migrations = await database.query<{ name: string }>('SELECT name FROM migrations');
    expect(migrations).toContainEqual({ name: 'CreateEssays1732636800000' });
  });

  it(`stores an accepted essay as a row and processes it over ${broker.name}`, async () => {
    const service = await start();

    const id = await submitEssay(service.http, { title: 'Stored', text: 'One. Two three four.' });
    // The row is written before the 202, whatever the processing has reached.
    const [stored] = await database.query<{ title: string; text: string }>(
      'SELECT title, text FROM essays WHERE id = $1',
      [id],
    );
    expect(stored).toEqual({ title: 'Stored', text: 'One. Two three four.' });

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

  describe('the built service killed with SIGKILL', () => {
    beforeAll(async () => {
      await ensureBuilt();
    }, 180_000);

    it('loses no accepted essay: the next instance processes each exactly once', async () => {
      const crashed = await spawnEssayService({
        env: envFor({ ESSAY_ANALYSIS_DELAY_MS: String(SLOW_ANALYSIS_MS) }),
      });
      running.push(crashed);
      const essays = await submitEssays(crashed.http, 5);
      const exit = await crashed.kill('SIGKILL');
      expect(exit.signal).toBe('SIGKILL');

      const afterCrash = await essayRows(database, essays);
      expect(afterCrash.map(({ status }) => status)).toEqual(essays.map(() => 'pending'));

      await start({ ESSAY_ANALYSIS_DELAY_MS: '0' });
      const processed = await waitForProcessedRows(database, essays, 10_000);
      expectProcessedResults(processed, essays);

      // Another redelivery sweep finds nothing left to redo.
      await sleep(1_200);
      expect(await essayRows(database, essays)).toEqual(processed);
    });
  });

  // On RabbitMQ a differently named service has a queue of its own, so only
  // NATS has two services on one subject.
  if (broker.kind === 'nats') {
    describe('two services on one NATS subject', () => {
      it('shares the essay.submitted subject with a differently named service without losing essays', async () => {
        // Two services (two queue groups) on one subject each get every message;
        // each finds only its own essays in its own database and drops the rest.
        // A stolen message would stay pending until the next redelivery sweep,
        // 30 s away here, so prompt processing shows none was.
        const otherDatabase = await createTestDatabase('essays_nats_other');
        try {
          const settings = { ESSAY_REDELIVERY_INTERVAL_MS: '30000' };
          const mine = await start(settings);
          const other = await startEssayService({
            env: {
              ...envFor(settings),
              DATABASE_URL: otherDatabase.url,
              SERVICE_NAME: uniqueServiceName('nats-other'),
            },
          });
          running.push(other);
          // Past the startup sweep, which would republish anything lost so far.
          await sleep(1_200);

          const [myEssays, otherEssays] = await Promise.all([
            submitEssays(mine.http, 4),
            submitEssays(other.http, 4),
          ]);

          expectProcessedResults(await waitForProcessedRows(database, myEssays, 5_000), myEssays);
          expectProcessedResults(
            await waitForProcessedRows(otherDatabase, otherEssays, 5_000),
            otherEssays,
          );
        } finally {
          await stopAll();
          await otherDatabase.drop();
        }
      });
    });
  }
});
