import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uniqueServiceName } from '../support/essay-service.js';
import {
  ensureBuilt,
  spawnEssayService,
  type EssayServiceProcess,
} from '../support/essay-service-process.js';
import { NATS_URL } from '../support/nats.js';
import { PrivateRedis } from '../support/redis-server.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { waitFor } from '../support/wait-for.js';

// pg ships no type declarations: the little this file uses of a client that
// holds a transaction (and its locks) open across several statements.
interface PgClient {
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
}
const pg = createRequire(import.meta.url)('pg') as {
  Client: new (config: { connectionString: string }) => PgClient;
};

// The documented bound: a claim left by a crashed request frees its key this
// long after it was taken (CLAIM_LEASE_MS in the sample app).
const CLAIM_LEASE_MS = 5_000;

/**
 * Idempotency-Keys across a `kill -9` at the worst moments, on PostgreSQL
 * (keys in the database) and NATS. The app is stopped inside a request with
 * row and table locks held from a separate connection, so the crash lands
 * exactly in the window under test without any hook in the app.
 */
describe('Idempotency-Key when the process is killed mid-request (PostgreSQL, NATS)', () => {
  let database: TestDatabase;
  const serviceName = uniqueServiceName('idem-crash');
  const running: EssayServiceProcess[] = [];
  const lockers: PgClient[] = [];
  let redis: PrivateRedis | undefined;

  const start = async (settings: Record<string, string> = {}) => {
    const service = await spawnEssayService({
      env: {
        ...settings,
        DATABASE_URL: database.url,
        NATS_URL,
        SERVICE_NAME: serviceName,
        // The app's statements wait on the test's locks; none may give up first.
        DATABASE_STATEMENT_TIMEOUT_MS: '30000',
      },
    });
    running.push(service);
    return service;
  };
  /** A connection that opens a transaction and holds it (and its locks). */
  const openTransaction = async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    lockers.push(client);
    await client.query('BEGIN');
    return client;
  };
  /**
   * A killed process's statement still waits in its server backend and would
   * commit once the test's lock goes (PostgreSQL notices the lost client
   * only later): end those backends, as a crash of the whole machine would.
   */
  const endBackendsOfTheKilledProcess = async () => {
    const pids = await Promise.all(
      lockers.map(
        async (locker) => (await locker.query('SELECT pg_backend_pid() AS pid')).rows[0].pid,
      ),
    );
    await database.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> ALL($1)',
      [pids],
    );
  };
  const post = (service: EssayServiceProcess, key: string, body: object) =>
    fetch(`${service.baseUrl}/essays`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
  const essaysTitled = (title: string) =>
    database.query<{ id: string }>('SELECT id FROM essays WHERE title = $1', [title]);
  /** The essay's row, waited for until its INSERT has committed. */
  const essayRowOnceCommitted = (title: string) =>
    waitFor(
      async () => ((await essaysTitled(title)).length ? essaysTitled(title) : undefined),
      10_000,
      {
        description: 'the essay row',
      },
    );
  const claimRow = () =>
    database.query<{ key: string; response: string | null }>(
      'SELECT key, response FROM idempotency_keys',
    );

  beforeAll(async () => {
    await ensureBuilt();
    database = await createTestDatabase('idempotency_crash');
    // Migrations first, so the tests can lock the tables.
    await (await start()).kill();
  }, 180_000);

  afterEach(async () => {
    await Promise.all(running.splice(0).map((service) => service.kill()));
    await Promise.all(lockers.splice(0).map((client) => client.end().catch(() => undefined)));
    await database.query('DELETE FROM idempotency_keys');
  });

  afterAll(async () => {
    await redis?.stop();
    await database?.drop();
  });

  it('killed after storing the essay and before completing the key: the retry replays that essay', async () => {
    const essay = { title: 'Crash window', text: 'Stored, then killed before answering.' };
    const crashed = await start();
    // Hold the INSERT of the essay until the key's row can be locked too.
    const essaysLock = await openTransaction();
    await essaysLock.query('LOCK TABLE essays IN SHARE MODE');
    const first = post(crashed, 'crash-window', essay).then(
      (response) => `answered ${response.status}`,
      (error: Error) => `failed: ${error.message}`,
    );
    const [claim] = await waitFor(
      async () => ((await claimRow()).length === 1 ? claimRow() : undefined),
      10_000,
      { description: 'the claim of the key' },
    );
    // The claim's completion (an UPDATE of its row) now waits for this lock.
    const keyLock = await openTransaction();
    await keyLock.query('SELECT key FROM idempotency_keys WHERE key = $1 FOR UPDATE', [claim.key]);
    await essaysLock.query('ROLLBACK');
    const [stored] = await essayRowOnceCommitted(essay.title);

    // The essay is committed, its key has no answer, the client has none either.
    expect((await claimRow())[0].response).toBeNull();
    await crashed.kill('SIGKILL');
    expect(await first).toMatch(/^failed/);
    await endBackendsOfTheKilledProcess();
    await keyLock.query('ROLLBACK');
    expect((await claimRow())[0].response).toBeNull();

    const restarted = await start();
    const retry = await post(restarted, 'crash-window', essay);
    expect(retry.status).toBe(202);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.headers.get('location')).toBe(`/essays/${stored.id}`);
    expect(await retry.json()).toEqual({ id: stored.id, status: 'pending' });
    // Another body under the key is still refused, and nothing else was stored.
    const other = await post(restarted, 'crash-window', { ...essay, text: 'Another text.' });
    expect(other.status).toBe(409);
    expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await other.json()).toMatchObject({
      code: 'CONFLICT',
      correlationId: expect.any(String) as unknown,
    });
    expect(await essaysTitled(essay.title)).toEqual([stored]);
    // The recovered answer is now the key's: a later retry replays it from there.
    expect(JSON.parse((await claimRow())[0].response ?? 'null')).toMatchObject({
      status: 202,
      body: { id: stored.id },
    });
    // And the essay the crash left pending is processed.
    await waitFor(
      async () => {
        const [row] = await database.query<{ status: string }>(
          'SELECT status FROM essays WHERE id = $1',
          [stored.id],
        );
        return row.status === 'processed' ? true : undefined;
      },
      10_000,
      { description: 'the essay to be processed' },
    );
  });

  it(`a claim left by a process killed before storing its essay frees the key within ${CLAIM_LEASE_MS} ms`, async () => {
    const essay = { title: 'Stale claim', text: 'Claimed, then killed before storing.' };
    const crashed = await start();
    const essaysLock = await openTransaction();
    await essaysLock.query('LOCK TABLE essays IN SHARE MODE');
    const first = post(crashed, 'stale-claim', essay).catch(() => undefined);
    await waitFor(async () => ((await claimRow()).length === 1 ? true : undefined), 10_000, {
      description: 'the claim of the key',
    });
    const claimedAt = Date.now();
    await crashed.kill('SIGKILL');
    await first;
    await endBackendsOfTheKilledProcess();
    await essaysLock.query('ROLLBACK');
    expect(await essaysTitled(essay.title)).toEqual([]);

    const restarted = await start();
    const refusals: number[] = [];
    const accepted = await waitFor(
      async () => {
        const response = await post(restarted, 'stale-claim', essay);
        if (response.status === 202) return response;
        // Until the lease passes: 409, problem+json, with when to retry.
        expect(response.status).toBe(409);
        expect(response.headers.get('retry-after')).toBe('1');
        expect(await response.json()).toMatchObject({
          code: 'CONFLICT',
          correlationId: expect.any(String) as unknown,
        });
        refusals.push(Date.now() - claimedAt);
        return undefined;
      },
      CLAIM_LEASE_MS + 10_000,
      { description: 'the key to be free again', intervalMs: 100 },
    );
    const freedAfterMs = Date.now() - claimedAt;

    expect(freedAfterMs).toBeLessThan(CLAIM_LEASE_MS + 1_500);
    expect(refusals.every((at) => at < CLAIM_LEASE_MS + 500)).toBe(true);
    const { id } = (await accepted.json()) as { id: string };
    expect(accepted.headers.get('idempotent-replayed')).toBeNull();
    expect(await essaysTitled(essay.title)).toEqual([{ id }]);
    const again = await post(restarted, 'stale-claim', essay);
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ id, status: 'pending' });
  });

  it('with keys in Redis, killed after storing the essay and before completing the key: the retry replays that essay', async () => {
    redis = await PrivateRedis.start();
    const essay = { title: 'Crash window, Redis', text: 'Stored, then killed before answering.' };
    const crashed = await start({ REDIS_URL: redis.url });
    const essaysLock = await openTransaction();
    await essaysLock.query('LOCK TABLE essays IN SHARE MODE');
    const first = post(crashed, 'crash-window-redis', essay).catch(() => undefined);
    await waitFor(
      async () =>
        ((await redis!.command('KEYS', 'essay-service:idempotency:*')) as string[]).length === 1
          ? true
          : undefined,
      10_000,
      { description: 'the claim of the key in Redis' },
    );
    // Writes to Redis (the key's completion) now wait; reads still answer.
    await redis.command('CLIENT', 'PAUSE', '20000', 'WRITE');
    await essaysLock.query('ROLLBACK');
    const [stored] = await essayRowOnceCommitted(essay.title);
    await crashed.kill('SIGKILL');
    await first;
    await redis.command('CLIENT', 'UNPAUSE');
    const [claimKey] = (await redis.command('KEYS', 'essay-service:idempotency:*')) as string[];
    // Still only the claim, or already expired: never an answer.
    if (claimKey) {
      const entry = JSON.parse((await redis.command('GET', claimKey)) as string) as object;
      expect(entry).not.toHaveProperty('response');
    }

    const restarted = await start({ REDIS_URL: redis.url });
    const retry = await post(restarted, 'crash-window-redis', essay);
    expect(retry.status).toBe(202);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await retry.json()).toEqual({ id: stored.id, status: 'pending' });
    expect(await essaysTitled(essay.title)).toEqual([stored]);
  });
});
