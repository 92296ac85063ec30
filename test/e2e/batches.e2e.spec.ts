import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BatchView } from '../../apps/essay-service/src/batches/batches.controller.js';
import { startCapturedEssayService } from '../support/captured-essay-service.js';
import {
  startEssayService,
  submitEssay,
  waitForProcessed,
  type HttpAgent,
  type RunningEssayService,
} from '../support/essay-service.js';
import { sampleValue } from '../support/exposition.js';
import { expectProblem } from '../support/problem-response.js';
import { waitFor } from '../support/wait-for.js';

// An essay no user can write: its analysis throws, as a bug in the analyser
// would, so the failed path runs end to end.
vi.mock('../../apps/essay-service/src/essays/analysis/text-analysis.js', async (importOriginal) => {
  const original =
    await importOriginal<
      typeof import('../../apps/essay-service/src/essays/analysis/text-analysis.js')
    >();
  return {
    ...original,
    analyzeText: (text: string) => {
      if (text.includes('UNANALYSABLE')) throw new Error('the analyser failed');
      return original.analyzeText(text);
    },
  };
});

const SERVICE = 'batches-e2e';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MISSING_BATCH = '6f1c2a4e-3b7d-4c9a-8e2f-1a2b3c4d5e6f';

interface EssayInput {
  title: string;
  text: string;
  language?: string;
}

/** `count` valid essays of 3, 4, 5... words, so each text differs. */
function essays(count: number, language?: string): EssayInput[] {
  return Array.from({ length: count }, (_, index) => ({
    title: `Essay ${index + 1}`,
    text: `${Array.from({ length: index + 3 }, (_, word) => `word${word + 1}`).join(' ')}.`,
    ...(language && { language }),
  }));
}

/** The id of a batch that must have been accepted. */
async function submitBatch(http: HttpAgent, batch: EssayInput[]): Promise<string> {
  const response = await http.post('/batches').send({ essays: batch });
  if (response.status !== 202) {
    throw new Error(`POST /batches answered ${response.status}: ${response.text}`);
  }
  return (response.body as { id: string }).id;
}

/** Polls `GET /batches/:id` until the batch is completed; returns it. */
function waitForCompleted(http: HttpAgent, id: string, timeoutMs = 10_000): Promise<BatchView> {
  return waitFor(
    async () => {
      const response = await http.get(`/batches/${id}`);
      if (response.status !== 200) throw new Error(`GET answered ${response.status}`);
      const batch = response.body as BatchView;
      return batch.status === 'completed' ? batch : undefined;
    },
    timeoutMs,
    { description: `batch ${id} to complete`, intervalMs: 50 },
  );
}

/** How many batches and essays the app has stored. */
async function storedRows(dataSource: DataSource): Promise<{ batches: number; essays: number }> {
  const count = async (table: string) => {
    const [row] = await dataSource.query<Array<{ count: number | string }>>(
      `SELECT COUNT(*) AS count FROM ${table}`,
    );
    return Number(row.count);
  };
  return { batches: await count('batches'), essays: await count('essays') };
}

describe.each(['express', 'fastify'] as const)('batches API on %s', (adapter) => {
  let service: RunningEssayService;
  let dataSource: DataSource;

  const scrape = async () => (await service.http.get('/metrics').expect(200)).text;

  beforeAll(async () => {
    service = await startEssayService({ adapter, env: { SERVICE_NAME: SERVICE } });
    dataSource = service.app.get(DataSource);
  });

  afterAll(async () => {
    await service?.close();
  });

  describe('POST /batches then GET /batches/:id', () => {
    it('accepts a batch with 202, its id, its size and a Location', async () => {
      const response = await service.http.post('/batches').send({ essays: essays(3) });

      expect(response.status).toBe(202);
      const { id } = response.body as { id: string };
      expect(id).toMatch(UUID_V4);
      expect(response.body).toEqual({ id, total: 3, status: 'processing' });
      expect(response.headers.location).toBe(`/batches/${id}`);
    });

    it('stores the batch and every essay before the 202, each essay pointing to its batch', async () => {
      const id = await submitBatch(service.http, essays(4));

      const rows = await dataSource.query<Array<{ title: string; batch_id: string }>>(
        'SELECT title, batch_id FROM essays WHERE batch_id = ? ORDER BY title',
        [id],
      );
      expect(rows).toEqual(
        ['Essay 1', 'Essay 2', 'Essay 3', 'Essay 4'].map((title) => ({ title, batch_id: id })),
      );
      const [batch] = await dataSource.query<Array<{ total: number }>>(
        'SELECT total FROM batches WHERE id = ?',
        [id],
      );
      expect(batch).toEqual({ total: 4 });
    });

    it('shows the progress until every essay is processed, then completed', async () => {
      const submittedAt = Date.now();
      const id = await submitBatch(service.http, essays(10, 'en'));

      const batch = await waitForCompleted(service.http, id);

      expect(batch).toEqual({
        id,
        total: 10,
        processed: 10,
        failed: 0,
        pending: 0,
        status: 'completed',
        createdAt: expect.any(String) as unknown,
        completedAt: expect.any(String) as unknown,
      });
      const createdAt = Date.parse(batch.createdAt);
      const completedAt = Date.parse(batch.completedAt ?? '');
      expect(createdAt).toBeGreaterThanOrEqual(submittedAt - 1_000);
      expect(completedAt).toBeGreaterThanOrEqual(createdAt);
      // Completion is stored once: a later poll answers the same.
      expect((await service.http.get(`/batches/${id}`)).body).toEqual(batch);
    });

    it('processes each essay of a batch as a single one, with its own results', async () => {
      const id = await submitBatch(service.http, [
        { title: 'Cats', text: 'The cat sat on the mat. It was happy!', language: 'EN' },
      ]);
      await waitForCompleted(service.http, id);
      const [{ id: essayId }] = await dataSource.query<Array<{ id: string }>>(
        'SELECT id FROM essays WHERE batch_id = ?',
        [id],
      );

      const essay = await waitForProcessed(service.http, essayId);

      expect(essay).toMatchObject({ title: 'Cats', language: 'en', status: 'processed' });
      expect(essay.results).toEqual({
        wordCount: 9,
        sentenceCount: 2,
        readabilityScore: 108.3,
        detectedLanguage: 'en',
      });
    });

    it('completes a batch whose essay fails analysis, counting it failed', async () => {
      const id = await submitBatch(service.http, [
        ...essays(2),
        { title: 'Broken', text: 'UNANALYSABLE text.' },
      ]);

      const batch = await waitForCompleted(service.http, id);

      expect(batch).toMatchObject({ total: 3, processed: 2, failed: 1, pending: 0 });
      const [failed] = await dataSource.query<Array<{ status: string }>>(
        "SELECT status FROM essays WHERE batch_id = ? AND title = 'Broken'",
        [id],
      );
      expect(failed).toEqual({ status: 'failed' });
    });

    it('stores every batch whole while others and single essays arrive at the same time', async () => {
      const before = await storedRows(dataSource);

      const ids = await Promise.all([
        ...Array.from({ length: 5 }, () => submitBatch(service.http, essays(20))),
        ...Array.from({ length: 20 }, (_, index) =>
          submitEssay(service.http, { title: `Single ${index}`, text: 'One two three.' }),
        ),
      ]);

      expect(await storedRows(dataSource)).toEqual({
        batches: before.batches + 5,
        essays: before.essays + 5 * 20 + 20,
      });
      for (const id of ids.slice(0, 5)) {
        expect(await waitForCompleted(service.http, id)).toMatchObject({ processed: 20 });
      }
    });

    it('answers 404 problem+json for a well-formed id that names no batch', async () => {
      const response = await service.http.get(`/batches/${MISSING_BATCH}`);

      expectProblem(response, {
        status: 404,
        code: 'NOT_FOUND',
        title: 'Not Found',
        detail: `No batch with id ${MISSING_BATCH}.`,
        instance: `/batches/${MISSING_BATCH}`,
      });
    });

    it('answers 400 for an id that is not a UUID', async () => {
      const response = await service.http.get('/batches/not-a-uuid');

      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    });
  });

  describe('POST /batches validation: all or nothing', () => {
    const rejected: Array<[string, unknown, Array<{ field: string; message: string }>]> = [
      [
        '501 essays',
        { essays: essays(501) },
        [{ field: 'essays', message: 'essays must contain no more than 500 elements' }],
      ],
      [
        'an empty list',
        { essays: [] },
        [{ field: 'essays', message: 'essays must contain at least 1 elements' }],
      ],
      [
        'an invalid essay among valid ones',
        { essays: [...essays(1), { title: '   ', text: 'Fine.' }, ...essays(2)] },
        [{ field: 'essays.1.title', message: 'title must not be blank' }],
      ],
      [
        'an essay with an unknown field',
        { essays: [...essays(2), { title: 'T', text: 'Fine.', author: 'Ada' }] },
        [{ field: 'essays.2.author', message: 'property author should not exist' }],
      ],
    ];

    it.each(rejected)(
      'rejects %s with 400 VALIDATION_FAILED and stores nothing',
      async (_case, body, errors) => {
        const before = await storedRows(dataSource);

        const response = await service.http.post('/batches').send(body as object);

        expectProblem(response, {
          status: 400,
          code: 'VALIDATION_FAILED',
          title: 'Bad Request',
          detail: `The request has ${errors.length} invalid field${errors.length === 1 ? '' : 's'}.`,
          instance: '/batches',
          errors,
        });
        expect(await storedRows(dataSource)).toEqual(before);
      },
    );

    it.each([
      ['no essays field', {}],
      ['essays that are not a list', { essays: { title: 'T', text: 'Fine.' } }],
      ['an item that is not an essay', { essays: [...essays(1), 'just text'] }],
    ])('rejects %s with 400 VALIDATION_FAILED', async (_case, body) => {
      const response = await service.http.post('/batches').send(body);

      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(JSON.stringify(response.body)).toContain('essays');
    });

    it('accepts exactly 500 essays', async () => {
      const id = await submitBatch(service.http, essays(500));

      expect(await waitForCompleted(service.http, id, 20_000)).toMatchObject({
        total: 500,
        processed: 500,
      });
    });
  });

  describe('business metrics', () => {
    it('counts each processed essay once by language, and times each phase once', async () => {
      const before = await scrape();

      const id = await submitBatch(service.http, [...essays(7, 'en'), ...essays(2)]);
      await waitForCompleted(service.http, id);
      const after = await scrape();

      const delta = (name: string, labels: Record<string, string>) =>
        sampleValue(after, name, labels) - sampleValue(before, name, labels);
      expect(delta('essays_processed_total', { status: 'processed', language: 'en' })).toBe(7);
      expect(delta('essays_processed_total', { status: 'processed', language: 'unknown' })).toBe(2);
      expect(delta('essays_processed_total', { status: 'failed', language: 'unknown' })).toBe(0);
      for (const phase of ['load', 'analyze', 'store', 'total']) {
        expect(delta('essay_processing_duration_seconds_count', { phase })).toBe(9);
        expect(delta('essay_processing_duration_seconds_bucket', { phase, le: '+Inf' })).toBe(9);
      }
      expect(after).toMatch(
        new RegExp(`^essays_processed_total\\{.*service="${SERVICE}".*\\} \\d+$`, 'm'),
      );
    });

    it('uses the standards document’s buckets for the phase durations', async () => {
      const text = await scrape();

      const buckets = text
        .split('\n')
        .filter((line) => line.startsWith('essay_processing_duration_seconds_bucket{'))
        .filter((line) => line.includes('phase="analyze"'))
        .map((line) => /le="([^"]+)"/.exec(line)?.[1]);
      expect(buckets).toEqual(['0.1', '0.5', '1', '2', '5', '10', '30', '60', '+Inf']);
    });

    it('counts an essay whose analysis threw as failed', async () => {
      const before = await scrape();

      const id = await submitBatch(service.http, [
        { title: 'Broken', text: 'UNANALYSABLE text.', language: 'sv' },
      ]);
      await waitForCompleted(service.http, id);
      const after = await scrape();

      const delta = (name: string, labels: Record<string, string>) =>
        sampleValue(after, name, labels) - sampleValue(before, name, labels);
      expect(delta('essays_processed_total', { status: 'failed', language: 'sv' })).toBe(1);
      expect(delta('essays_processed_total', { status: 'processed', language: 'sv' })).toBe(0);
    });

    it('shows active_batches_count at 1 while a batch is processed, then 0', async () => {
      // An app of its own whose analysis takes a while, so the batch is seen
      // in progress; the gauge follows the newest app still open.
      const slow = await startCapturedEssayService({
        adapter,
        env: { SERVICE_NAME: SERVICE, ESSAY_ANALYSIS_DELAY_MS: '1500' },
      });
      try {
        const activeBatches = async () =>
          sampleValue(
            (await slow.http.get('/metrics').expect(200)).text,
            'active_batches_count',
            {},
          );
        expect(await activeBatches()).toBe(0);

        const id = await submitBatch(slow.http, essays(3, 'en'));

        expect((await slow.http.get(`/batches/${id}`)).body).toMatchObject({
          total: 3,
          processed: 0,
          pending: 3,
          status: 'processing',
          completedAt: null,
        });
        expect(await activeBatches()).toBe(1);
        await waitForCompleted(slow.http, id);
        expect(await activeBatches()).toBe(0);
      } finally {
        await slow.close();
      }
    });
  });
});
