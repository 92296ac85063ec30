import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const ESSAYS = 400;
const CLIENTS = 4;
// Between two essays of one client: the submissions span several kills.
const CLIENT_PAUSE_MS = 150;
const KILLS = 5;
// Each essay is in processing this long, so kills land mid-processing too.
const ANALYSIS_DELAY_MS = 1_000;
const REDELIVERY_INTERVAL_MS = 5_000;

interface Submission {
  index: number;
  title: string;
  text: string;
  key?: string;
  /** The ids of every 202 the client got for it (one, unless retried without a key). */
  acceptedIds: string[];
  attempts: number;
}

interface Row {
  id: string;
  title: string;
  status: string;
  word_count: number | null;
  processed_at: Date | null;
}

/**
 * "Accepted means processed, once": the built service is killed with SIGKILL
 * several times at random moments while clients submit essays (every other
 * one with an Idempotency-Key, each retried until answered, as a real
 * client would) and while they are processed; it is restarted each time.
 */
describe.each([
  { broker: 'NATS', env: { NATS_URL } },
  { broker: 'RabbitMQ', env: { RABBITMQ_URL } },
])('essays across repeated kill -9, on PostgreSQL and $broker', ({ broker, env }) => {
  let database: TestDatabase;
  const serviceName = uniqueServiceName(`crash-${broker.toLowerCase()}`);
  const instances: EssayServiceProcess[] = [];
  let current: EssayServiceProcess | undefined;

  const start = async () => {
    const service = await spawnEssayService({
      env: {
        ...env,
        DATABASE_URL: database.url,
        SERVICE_NAME: serviceName,
        ESSAY_ANALYSIS_DELAY_MS: String(ANALYSIS_DELAY_MS),
        ESSAY_REDELIVERY_INTERVAL_MS: String(REDELIVERY_INTERVAL_MS),
      },
    });
    instances.push(service);
    return service;
  };

  beforeAll(async () => {
    await ensureBuilt();
    database = await createTestDatabase(`crash_${broker}`);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(instances.map((service) => service.kill()));
    await database?.drop();
    if (broker === 'RabbitMQ') await deleteQueue(serviceName);
  });

  it('loses no accepted essay, gives each Idempotency-Key one essay, and writes each result once', async () => {
    const submissions: Submission[] = Array.from({ length: ESSAYS }, (_, index) => ({
      index,
      title: `Essay ${index}`,
      // Distinct texts of 3 to 22 words: a mixed-up result would show.
      text: essayOfWords(3 + (index % 20)),
      key: index % 2 === 0 ? `crash-recovery-${index}` : undefined,
      acceptedIds: [],
      attempts: 0,
    }));
    const answers = new Map<string, number>();
    const badErrors: string[] = [];

    /** POSTs until the service answers 202; a refused, reset or 409/503 answer is retried. */
    const submit = async (submission: Submission) => {
      const body = JSON.stringify({ title: submission.title, text: submission.text });
      for (;;) {
        const service = current;
        if (!service) {
          await sleep(50);
          continue;
        }
        submission.attempts++;
        let response: Response;
        try {
          response = await fetch(`${service.baseUrl}/essays`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              ...(submission.key && { 'idempotency-key': submission.key }),
            },
            body,
            signal: AbortSignal.timeout(10_000),
          });
        } catch {
          answers.set('connection error', (answers.get('connection error') ?? 0) + 1);
          await sleep(100);
          continue;
        }
        answers.set(String(response.status), (answers.get(String(response.status)) ?? 0) + 1);
        if (response.status === 202) {
          submission.acceptedIds.push(((await response.json()) as { id: string }).id);
          return;
        }
        const text = await response.text();
        // Every error a client sees is problem+json with a correlation id.
        const isProblem =
          /^application\/problem\+json/.test(response.headers.get('content-type') ?? '') &&
          typeof (JSON.parse(text) as { correlationId?: unknown }).correlationId === 'string';
        if (!isProblem || ![409, 503].includes(response.status)) {
          badErrors.push(`${response.status} ${text.slice(0, 200)}`);
        }
        await sleep(200);
      }
    };

    current = await start();
    const startedAt = Date.now();
    let next = 0;
    const clients = Array.from({ length: CLIENTS }, async () => {
      while (next < submissions.length) {
        await submit(submissions[next++]);
        await sleep(CLIENT_PAUSE_MS);
      }
    });
    const submitted = Promise.all(clients);
    let isSubmitted = false;
    void submitted.then(() => (isSubmitted = true));

    // Kills at random moments: during submission, and the last while the
    // last essays are being processed.
    const killedAt: number[] = [];
    const pendingAtKills: number[] = [];
    let lastRestartAt = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      if (kill === KILLS - 1) await submitted;
      await sleep(
        kill === KILLS - 1 ? Math.random() * ANALYSIS_DELAY_MS : 1_000 + Math.random() * 2_000,
      );
      const victim = current;
      current = undefined;
      expect((await victim.kill('SIGKILL')).signal).toBe('SIGKILL');
      killedAt.push(Date.now() - startedAt);
      const [{ n }] = await database.query<{ n: string }>(
        "SELECT count(*) AS n FROM essays WHERE status = 'pending'",
      );
      pendingAtKills.push(Number(n));
      current = await start();
      lastRestartAt = Date.now();
    }
    await submitted;
    expect(isSubmitted).toBe(true);

    const accepted = submissions.flatMap((submission) => submission.acceptedIds);
    const drained = await waitFor(
      async () => {
        const rows = await database.query<Row>(
          'SELECT id, title, status, word_count, processed_at FROM essays',
        );
        return rows.some((row) => row.status === 'pending') ? undefined : rows;
      },
      60_000,
      { description: 'no essay to be pending', intervalMs: 100 },
    );
    const drainMs = Date.now() - lastRestartAt;

    // Every essay that got a 202 is stored and processed, with its own results.
    const byId = new Map(drained.map((row) => [row.id, row]));
    const lost = accepted.filter((id) => byId.get(id)?.status !== 'processed');
    expect(lost).toEqual([]);
    for (const submission of submissions) {
      for (const id of submission.acceptedIds) {
        expect(byId.get(id)).toMatchObject({
          title: submission.title,
          word_count: 3 + (submission.index % 20),
          processed_at: expect.any(Date) as unknown,
        });
      }
    }
    // Each Idempotency-Key has one essay, the one its client was given.
    const keyed = submissions.filter((submission) => submission.key);
    const duplicates = keyed.filter(
      (submission) => drained.filter((row) => row.title === submission.title).length !== 1,
    );
    expect(duplicates.map(({ title }) => title)).toEqual([]);
    for (const submission of keyed) {
      expect(submission.acceptedIds).toHaveLength(1);
      expect(drained.find((row) => row.title === submission.title)?.id).toBe(
        submission.acceptedIds[0],
      );
    }
    expect(badErrors).toEqual([]);

    // Each result was written once: the processing log line appears at most
    // once per essay over every instance, and another redelivery sweep
    // later nothing has changed.
    const processedLines = new Map<string, number>();
    for (const instance of instances) {
      for (const match of instance.stdout().matchAll(/Essay ([0-9a-f-]{36}) processed:/g)) {
        processedLines.set(match[1], (processedLines.get(match[1]) ?? 0) + 1);
      }
    }
    expect([...processedLines].filter(([, count]) => count > 1)).toEqual([]);
    await sleep(REDELIVERY_INTERVAL_MS + 1_000);
    expect(
      await database.query<Row>('SELECT id, title, status, word_count, processed_at FROM essays'),
    ).toEqual(expect.arrayContaining(drained));

    // A retry of a key, now, replays the essay its client was given.
    const service = current;
    const replays = await Promise.all(
      keyed.map(async (submission) => {
        const response = await fetch(`${service.baseUrl}/essays`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': submission.key! },
          body: JSON.stringify({ title: submission.title, text: submission.text }),
        });
        return {
          status: response.status,
          replayed: response.headers.get('idempotent-replayed'),
          id: ((await response.json()) as { id?: string }).id,
        };
      }),
    );
    expect(replays).toEqual(
      keyed.map((submission) => ({
        status: 202,
        replayed: 'true',
        id: submission.acceptedIds[0],
      })),
    );
    expect(await database.query('SELECT id FROM essays')).toHaveLength(drained.length);

    const unkeyedExtra = submissions
      .filter((submission) => !submission.key)
      .reduce((extra, submission) => extra + submission.acceptedIds.length - 1, 0);
    console.log(
      JSON.stringify({
        broker,
        essays: ESSAYS,
        accepted: accepted.length,
        kills: killedAt,
        pendingAtKills,
        attempts: submissions.reduce((sum, submission) => sum + submission.attempts, 0),
        answers: Object.fromEntries(answers),
        keyedDuplicates: duplicates.length,
        lost: lost.length,
        // Without a key, a retry after a reset may create a second essay: why keys exist.
        unkeyedRetriedIntoTwo: unkeyedExtra,
        drainAfterLastRestartMs: drainMs,
      }),
    );
  }, 150_000);
});
