import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  essayRows,
  expectProcessedResults,
  submitEssays,
  waitForProcessedRows,
} from '../support/essay-rows.js';
import { uniqueServiceName } from '../support/essay-service.js';
import {
  ensureBuilt,
  spawnEssayService,
  type EssayServiceProcess,
} from '../support/essay-service-process.js';
import { NATS_URL } from '../support/nats.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { deleteQueue, RABBITMQ_URL } from '../support/rabbitmq.js';

const ANALYSIS_MS = 1_500;

/** The buses a message can be in flight on when the service stops. */
const BUSES = [
  { bus: 'NATS', kind: 'nats', env: { NATS_URL }, cleanUp: async () => {} },
  {
    bus: 'RabbitMQ',
    kind: 'rabbitmq',
    env: { RABBITMQ_URL },
    // SERVICE_NAME is the queue, durable: deleted so runs leave none behind.
    cleanUp: (serviceName: string) => deleteQueue(serviceName),
  },
];

/**
 * SIGTERM while essays are being processed, on the built app over real
 * PostgreSQL and each bus: the consumers stop, the handlers in flight finish
 * before the pools close; what cannot finish within the budget is left
 * pending and redelivered after a restart. Nothing accepted is lost.
 */
describe.each(BUSES)(
  'shutdown with message handlers in flight (PostgreSQL + $bus)',
  ({ bus, kind, env: busEnv, cleanUp }) => {
    const serviceName = uniqueServiceName(`shutdown-${bus.toLowerCase()}`);
    let database: TestDatabase;
    const running: EssayServiceProcess[] = [];

    const start = async (env: Record<string, string>) => {
      const service = await spawnEssayService({
        env: {
          DATABASE_URL: database.url,
          ...busEnv,
          SERVICE_NAME: serviceName,
          SHUTDOWN_DRAIN_DELAY_MS: '0',
          ESSAY_ANALYSIS_DELAY_MS: String(ANALYSIS_MS),
          ...env,
        },
      });
      running.push(service);
      return service;
    };

    beforeAll(async () => {
      await ensureBuilt();
      database = await createTestDatabase(`essays_shutdown_${bus.toLowerCase()}`);
    });

    afterEach(async () => {
      await Promise.all(running.splice(0).map((service) => service.kill()));
    });

    afterAll(async () => {
      await database?.drop();
      await cleanUp(serviceName);
    });

    it('lets the handlers in flight finish before closing the database, then exits 0', async () => {
      const service = await start({});
      const essays = await submitEssays(service.http, 4);
      await sleep(400); // every handler is now inside its analysis delay

      service.child.kill('SIGTERM');
      const exit = await service.exited;

      expect(exit).toEqual({ code: 0, signal: null });
      const rows = await essayRows(database, essays);
      expectProcessedResults(rows, essays);
      const stdout = service.stdout();
      expect(stdout).toContain(`Consuming messages over ${kind}`);
      expect(stdout.indexOf('"phase":"stop consumers"')).toBeLessThan(
        stdout.indexOf('"phase":"lifecycle hooks"'),
      );
    });

    it('leaves unfinished essays pending when the budget runs out; a restart finishes them all', async () => {
      const first = await start({ SHUTDOWN_TIMEOUT_MS: '500', ESSAY_ANALYSIS_DELAY_MS: '4000' });
      const essays = await submitEssays(first.http, 3);
      await sleep(300);

      first.child.kill('SIGTERM');
      expect(await first.exited).toEqual({ code: 1, signal: null });
      const overrun = first
        .stdout()
        .split('\n')
        .find((line) => line.includes('Shutdown budget of 500 ms ran out'));
      expect(overrun).toContain('"phase":"stop consumers"');
      expect(overrun).toContain('essay.submitted #');
      const afterCrash = await essayRows(database, essays);
      expect(afterCrash.map((row) => row.status)).toEqual(['pending', 'pending', 'pending']);

      await start({ ESSAY_REDELIVERY_INTERVAL_MS: '1000', ESSAY_ANALYSIS_DELAY_MS: '0' });
      const rows = await waitForProcessedRows(database, essays, 20_000);
      expectProcessedResults(rows, essays);
      const [{ count }] = await database.query<{ count: string }>(
        "SELECT count(*) FROM essays WHERE status <> 'processed'",
      );
      expect(Number(count)).toBe(0);
    });
  },
);
