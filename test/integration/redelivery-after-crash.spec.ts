import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { essayOfWords } from '../support/essay-rows.js';
import { uniqueServiceName } from '../support/essay-service.js';
import {
  ensureBuilt,
  spawnEssayService,
  type EssayServiceProcess,
} from '../support/essay-service-process.js';
import { NATS_URL } from '../support/nats.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { deleteQueue, RABBITMQ_URL } from '../support/rabbitmq.js';
import { waitFor } from '../support/wait-for.js';

// Far beyond the test: no interval sweep runs, only the one after startup.
const REDELIVERY_INTERVAL_MS = 120_000;
// The crashed instance holds each essay this long: none gets processed there.
const STUCK_ANALYSIS_MS = 600_000;
const BATCH_LIMIT = 500;

/**
 * Essays pending at a `kill -9` all come back right after the restart: the
 * first redelivery sweep publishes every essay pending from before the start,
 * however many, rather than a fixed number per interval.
 */
describe.each([
  // Core NATS keeps nothing: what the killed instance had taken is gone, and
  // only the sweep brings it back.
  { broker: 'NATS', env: { NATS_URL }, isKeptByBroker: false },
  // RabbitMQ may hand the killed consumer's unfinished messages to the new
  // one itself; the sweep publishes the rest.
  { broker: 'RabbitMQ', env: { RABBITMQ_URL }, isKeptByBroker: true },
])('essays pending at a kill -9, on PostgreSQL and $broker', ({ broker, env, isKeptByBroker }) => {
  let database: TestDatabase;
  const serviceName = uniqueServiceName(`redeliver-${broker.toLowerCase()}`);
  const instances: EssayServiceProcess[] = [];

  const start = async (settings: Record<string, string>) => {
    const service = await spawnEssayService({
      env: {
        ...env,
        DATABASE_URL: database.url,
        SERVICE_NAME: serviceName,
        ESSAY_REDELIVERY_INTERVAL_MS: String(REDELIVERY_INTERVAL_MS),
        ...settings,
      },
    });
    instances.push(service);
    return service;
  };

  beforeAll(async () => {
    await ensureBuilt();
    database = await createTestDatabase(`redeliver_${broker}`);
  }, 180_000);

  // A test that failed must not leave a consumer of the queue to the next one.
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((service) => service.kill()));
  });

  afterAll(async () => {
    await database?.drop();
    if (broker === 'RabbitMQ') await deleteQueue(serviceName);
  });

  it.each([300, 1_000])(
    'processes all %i essays pending at the crash in the first sweep after the restart',
    async (count) => {
      const crashed = await start({ ESSAY_ANALYSIS_DELAY_MS: String(STUCK_ANALYSIS_MS) });
      const ids: string[] = [];
      for (let offset = 0; offset < count; offset += BATCH_LIMIT) {
        const size = Math.min(BATCH_LIMIT, count - offset);
        const essays = Array.from({ length: size }, (_, index) => ({
          title: `Pending ${offset + index}`,
          text: essayOfWords(3 + (index % 10)),
        }));
        const response = await crashed.http.post('/batches').send({ essays }).expect(202);
        const batchId = (response.body as { id: string }).id;
        const rows = await database.query<{ id: string }>(
          'SELECT id FROM essays WHERE batch_id = $1',
          [batchId],
        );
        ids.push(...rows.map(({ id }) => id));
      }
      expect(ids).toHaveLength(count);
      await crashed.kill('SIGKILL');
      const pending = async () =>
        Number(
          (
            await database.query<{ n: string }>(
              "SELECT count(*) AS n FROM essays WHERE id = ANY($1) AND status = 'pending'",
              [ids],
            )
          )[0].n,
        );
      expect(await pending()).toBe(count);

      const restartedAt = Date.now();
      const restarted = await start({ ESSAY_ANALYSIS_DELAY_MS: '0' });
      const listeningAfterMs = Date.now() - restartedAt;
      // Well before the next sweep (REDELIVERY_INTERVAL_MS away), none is left.
      await waitFor(async () => ((await pending()) === 0 ? true : undefined), 60_000, {
        description: `the ${count} essays pending at the crash to be processed`,
        intervalMs: 100,
      });
      const drainedAfterMs = Date.now() - restartedAt;
      const republished = restarted
        .stdout()
        .split('\n')
        .filter((line) => line.includes('pending essay(s) again'))
        .map((line) => (JSON.parse(line) as { msg: string }).msg);
      if (isKeptByBroker) {
        // One sweep at most, of what the broker did not bring back by then.
        expect(republished.length).toBeLessThanOrEqual(1);
        const published = Number(/Published (\d+)/.exec(republished[0] ?? '')?.[1] ?? 0);
        expect(published).toBeLessThanOrEqual(count);
      } else {
        expect(republished).toEqual([`Published ${count} pending essay(s) again`]);
      }
      const processed = await database.query<{ n: string }>(
        "SELECT count(*) AS n FROM essays WHERE id = ANY($1) AND status = 'processed' AND processed_at IS NOT NULL",
        [ids],
      );
      expect(Number(processed[0].n)).toBe(count);
      console.log(JSON.stringify({ broker, pending: count, listeningAfterMs, drainedAfterMs }));
    },
    120_000,
  );
});
