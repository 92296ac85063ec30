import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { submitEssays, type SubmittedEssay } from '../support/essay-rows.js';
import {
  startEssayService,
  waitForProcessed,
  type HttpAgent,
  type RunningEssayService,
} from '../support/essay-service.js';
import {
  ensureBuilt,
  spawnEssayService,
  type EssayServiceProcess,
} from '../support/essay-service-process.js';
import { readSqliteFile, type SqliteEssayRow } from '../support/sqlite-file.js';
import { waitFor } from '../support/wait-for.js';

/** The file's rows of the given essays, in their order (missing ones left out). */
function rowsOf(rows: SqliteEssayRow[], essays: readonly SubmittedEssay[]): SqliteEssayRow[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  return essays.flatMap(({ id }) => byId.get(id) ?? []);
}

function processedRows(essays: readonly SubmittedEssay[]) {
  return essays.map(({ id, words }) => ({
    id,
    status: 'processed',
    word_count: words,
    processed_at: expect.any(String) as unknown,
  }));
}

async function expectAllProcessed(
  http: HttpAgent,
  essays: readonly SubmittedEssay[],
): Promise<void> {
  for (const { id, words } of essays) {
    const essay = await waitForProcessed(http, id, 10_000);
    expect(essay.results).toMatchObject({ wordCount: words, sentenceCount: 1 });
  }
}

/** Waits until the file itself (not just the app's memory) shows every essay processed. */
async function waitForProcessedInFile(file: string, essays: readonly SubmittedEssay[]) {
  return waitFor(
    async () => {
      const { essays: rows } = await readSqliteFile(file);
      const mine = rowsOf(rows, essays);
      return mine.every(({ status }) => status === 'processed') && mine.length === essays.length
        ? mine
        : undefined;
    },
    5_000,
    { description: `${file} to show ${essays.length} essays processed`, intervalMs: 100 },
  );
}

describe('essay service on a SQLite file', () => {
  let directory: string;
  const running: Array<RunningEssayService | EssayServiceProcess> = [];

  const start = async (file: string, settings: Record<string, string> = {}) => {
    const service = await startEssayService({
      env: { DATABASE_URL: `sqlite:${file}`, ESSAY_REDELIVERY_INTERVAL_MS: '1000', ...settings },
    });
    running.push(service);
    return service;
  };

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'essay-service-sqlite-'));
  });

  afterEach(async () => {
    await Promise.all(
      running.splice(0).map((service) => ('kill' in service ? service.kill() : service.close())),
    );
  });

  afterAll(async () => {
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('finishes, before a graceful close returns, the analyses the in-process bus has started', async () => {
    const file = join(directory, 'drain.sqlite');
    const service = await start(file, { ESSAY_ANALYSIS_DELAY_MS: '1000' });
    const essays = await submitEssays(service.http, 3);

    await service.close();

    const { integrity, essays: rows } = await readSqliteFile(file);
    expect(integrity).toBe('ok');
    expect(rowsOf(rows, essays)).toEqual(processedRows(essays));
  });

  it('keeps every accepted essay across a close and a reopen, and ends with all processed in a sound file', async () => {
    const file = join(directory, 'reopen.sqlite');
    const first = await start(file, { ESSAY_ANALYSIS_DELAY_MS: '1500' });
    const essays = await submitEssays(first.http, 4);
    await first.close();

    const afterClose = await readSqliteFile(file);
    expect(afterClose.integrity).toBe('ok');
    expect(rowsOf(afterClose.essays, essays).map(({ id }) => id)).toEqual(
      essays.map(({ id }) => id),
    );

    const second = await start(file, { ESSAY_ANALYSIS_DELAY_MS: '0' });
    await expectAllProcessed(second.http, essays);
    await waitForProcessedInFile(file, essays);
    await second.close();

    const { integrity, tables, essays: rows } = await readSqliteFile(file);
    expect(integrity).toBe('ok');
    expect(tables).toEqual(expect.arrayContaining(['essays', 'migrations']));
    expect(rowsOf(rows, essays)).toEqual(processedRows(essays));
    // The file and its journal; no temporary file of a save is left.
    expect((await readdir(directory)).filter((name) => name.startsWith('reopen.'))).toEqual([
      'reopen.sqlite',
      'reopen.sqlite-journal.0',
    ]);
  });

  describe('the built service killed with SIGKILL', () => {
    beforeAll(async () => {
      await ensureBuilt();
    }, 180_000);

    it('leaves a sound file with every accepted essay, which the next instance processes', async () => {
      const file = join(directory, 'crash.sqlite');
      const crashed = await spawnEssayService({
        env: { DATABASE_URL: `sqlite:${file}`, ESSAY_ANALYSIS_DELAY_MS: '3000' },
      });
      running.push(crashed);
      const essays = await submitEssays(crashed.http, 4);
      const exit = await crashed.kill('SIGKILL');
      expect(exit.signal).toBe('SIGKILL');

      // Accepted means on disk: each 202 came after its row reached the journal.
      const afterCrash = await readSqliteFile(file);
      expect(afterCrash.integrity).toBe('ok');
      expect(rowsOf(afterCrash.essays, essays).map(({ status }) => status)).toEqual(
        essays.map(() => 'pending'),
      );

      const second = await start(file, { ESSAY_ANALYSIS_DELAY_MS: '0' });
      await expectAllProcessed(second.http, essays);
      expect(await waitForProcessedInFile(file, essays)).toEqual(processedRows(essays));
      await second.close();

      expect((await readSqliteFile(file)).integrity).toBe('ok');
    });
  });
});
