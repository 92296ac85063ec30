import { expect } from 'vitest';
import type { HttpAgent } from './essay-service.js';
import { submitEssay } from './essay-service.js';
import type { TestDatabase } from './postgres.js';
import { waitFor } from './wait-for.js';

/** An `essays` row as PostgreSQL returns it. */
export interface EssayRow {
  id: string;
  status: string;
  word_count: number | null;
  sentence_count: number | null;
  processed_at: Date | null;
}

/** An essay a test submitted, with the word count its text was built to have. */
export interface SubmittedEssay {
  id: string;
  words: number;
}

/** A distinct text of exactly `words` words in one sentence. */
export function essayOfWords(words: number): string {
  return `${Array.from({ length: words }, (_, index) => `word${index + 1}`).join(' ')}.`;
}

/**
 * Posts `count` essays of 3, 4, 5... words; each must be accepted (202).
 * The essays differ in length so a mixed-up result would show.
 */
export async function submitEssays(http: HttpAgent, count: number): Promise<SubmittedEssay[]> {
  const essays: SubmittedEssay[] = [];
  for (let index = 0; index < count; index++) {
    const words = index + 3;
    const id = await submitEssay(http, { title: `Essay ${index + 1}`, text: essayOfWords(words) });
    essays.push({ id, words });
  }
  return essays;
}

/** The rows of the given essays, in their order (missing ones left out). */
export async function essayRows(
  database: TestDatabase,
  essays: readonly SubmittedEssay[],
): Promise<EssayRow[]> {
  const rows = await database.query<EssayRow>(
    'SELECT id, status, word_count, sentence_count, processed_at FROM essays WHERE id = ANY($1)',
    [essays.map(({ id }) => id)],
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  return essays.flatMap(({ id }) => byId.get(id) ?? []);
}

/** Waits until every essay's row is processed; returns the rows. */
export async function waitForProcessedRows(
  database: TestDatabase,
  essays: readonly SubmittedEssay[],
  timeoutMs: number,
): Promise<EssayRow[]> {
  let pending = essays.length;
  return waitFor(
    async () => {
      const rows = await essayRows(database, essays);
      pending = essays.length - rows.filter((row) => row.status === 'processed').length;
      return pending === 0 ? rows : undefined;
    },
    timeoutMs,
    {
      description: `${essays.length} essays to be processed (${pending} still not)`,
      intervalMs: 100,
    },
  );
}

/** Asserts one processed row per essay, with the counts its text was built to have. */
export function expectProcessedResults(rows: EssayRow[], essays: readonly SubmittedEssay[]): void {
  expect(rows).toEqual(
    essays.map(({ id, words }) => ({
      id,
      status: 'processed',
      word_count: words,
      sentence_count: 1,
      processed_at: expect.any(Date) as unknown,
    })),
  );
}
