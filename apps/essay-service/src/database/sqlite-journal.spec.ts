import { randomUUID } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../../test/support/wait-for.js';
import { Batch } from '../batches/batch.entity.js';
import { Essay } from '../essays/essay.entity.js';
import { databaseOptionsFor } from './database.options.js';
import { insertAtomically } from './insert-atomically.js';
import {
  readEmbeddedDatabase,
  SqliteJournal,
  type SqliteJournalOptions,
} from './sqlite-journal.js';

let dir: string;
let file: string;
const open: DataSource[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sqlite-journal-'));
  file = join(dir, 'essays.sqlite');
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((dataSource) => closeDataSource(dataSource)));
  rmSync(dir, { recursive: true, force: true });
});

/** The database as the service opens it, on `file` and its journal. */
async function openDatabase(options: SqliteJournalOptions = {}): Promise<DataSource> {
  const settings = {
    DATABASE_URL: 'sqlite::memory:',
    DATABASE_POOL_SIZE: 1,
    DATABASE_MAX_OVERFLOW: 0,
  };
  const { database, journal } = await SqliteJournal.open(file, options);
  const dataSource = new DataSource({
    ...(await databaseOptionsFor(settings)),
    database,
    subscribers: [journal.subscriber()],
  } as DataSourceOptions);
  open.push(await dataSource.initialize());
  return dataSource;
}

async function closeDataSource(dataSource: DataSource): Promise<void> {
  if (!dataSource.isInitialized) return;
  const journal = SqliteJournal.of(dataSource);
  await dataSource.destroy();
  await journal?.close();
}

/** Closes as a crash would leave it: nothing more is written, nothing flushed on the way out. */
async function reopen(dataSource: DataSource, options?: SqliteJournalOptions) {
  await closeDataSource(dataSource);
  return openDatabase(options);
}

function essay(dataSource: DataSource, title: string, extra: Partial<Essay> = {}): Essay {
  return dataSource.getRepository(Essay).create({
    id: randomUUID(),
    title,
    text: `The essay ${title}.`,
    language: null,
    status: 'pending',
    correlationId: null,
    batchId: null,
    idempotencyKey: null,
    createdAt: new Date(),
    processedAt: null,
    ...extra,
  });
}

const journalFiles = () => readdirSync(dir).filter((name) => name.includes('-journal.'));
const rowsOf = (dataSource: DataSource) =>
  dataSource.getRepository(Essay).find({ order: { title: 'ASC' } });

describe('the embedded database journal', () => {
  it('keeps every write (insert, update, delete, an atomic batch) across a reopen, to the millisecond', async () => {
    const first = await openDatabase();
    const essays = first.getRepository(Essay);
    const [a, b, c] = ['a', 'b', 'c'].map((title) => essay(first, title));
    for (const one of [a, b, c]) await essays.insert(one);
    await essays.update({ id: b.id }, { status: 'processed', wordCount: 3 });
    await essays.delete({ id: c.id });
    const batch = first
      .getRepository(Batch)
      .create({ id: randomUUID(), total: 1, createdAt: new Date(), completedAt: null });
    const inBatch = essay(first, 'd', { batchId: batch.id, createdAt: batch.createdAt });
    await insertAtomically(first, [
      { target: Batch, rows: [batch] },
      { target: Essay, rows: [inBatch] },
    ]);
    const before = await rowsOf(first);

    const second = await reopen(first);

    expect(await rowsOf(second)).toEqual(before);
    expect((await rowsOf(second)).map(({ title, status }) => [title, status])).toEqual([
      ['a', 'pending'],
      ['b', 'processed'],
      ['d', 'pending'],
    ]);
    expect((await rowsOf(second))[0].createdAt).toEqual(a.createdAt);
    expect(await second.getRepository(Batch).findOneBy({ id: batch.id })).toMatchObject({
      total: 1,
    });
  });

  it('drops a record the process died writing, whole, and goes on from the records before it', async () => {
    const first = await openDatabase();
    await first.getRepository(Essay).insert(essay(first, 'kept'));
    const [journal] = journalFiles();
    const whole = statSync(join(dir, journal)).size;
    await first.getRepository(Essay).insert(essay(first, 'torn'));
    await closeDataSource(first);
    // The second record cut off part-way, as a kill -9 during its write leaves it.
    truncateSync(join(dir, journal), statSync(join(dir, journal)).size - 7);

    const second = await openDatabase();

    expect((await rowsOf(second)).map(({ title }) => title)).toEqual(['kept']);
    expect(statSync(join(dir, journal)).size).toBe(whole);
    await second.getRepository(Essay).insert(essay(second, 'after'));
    const third = await reopen(second);
    expect((await rowsOf(third)).map(({ title }) => title)).toEqual(['after', 'kept']);
  });

  it('rewrites the file once the journal outgrows it, then continues in a new journal', async () => {
    const first = await openDatabase({ minCheckpointBytes: 1 });
    const essays = first.getRepository(Essay);
    // The empty database's file is a few KB: enough essays make a journal larger.
    for (let i = 0; i < 40; i++) {
      await essays.insert(
        essay(first, `essay ${String(i).padStart(2, '0')}`, { text: 'x'.repeat(2_000) }),
      );
    }
    const files = await waitFor(
      () => {
        const names = journalFiles();
        return names.includes('essays.sqlite-journal.0') ? undefined : names;
      },
      5_000,
      { description: 'the first journal to be rewritten into the file' },
    );
    expect(files.length).toBeGreaterThan(0);
    const before = await rowsOf(first);

    const second = await reopen(first);

    expect(await rowsOf(second)).toEqual(before);
    expect(before).toHaveLength(40);
  });

  it('gives the same rows after a crash between rewriting the file and removing the journal it holds', async () => {
    const first = await openDatabase();
    for (const title of ['a', 'b']) await first.getRepository(Essay).insert(essay(first, title));
    await closeDataSource(first);
    copyFileSync(join(dir, 'essays.sqlite-journal.0'), join(dir, 'journal.copy'));

    const second = await openDatabase({ minCheckpointBytes: 1 });
    // Enough to make the journal larger than the file (a few dozen KB).
    for (let i = 0; i < 20; i++) {
      await second.getRepository(Essay).insert(essay(second, `c${i}`, { text: 'y'.repeat(8_000) }));
    }
    await waitFor(
      () => (journalFiles().includes('essays.sqlite-journal.0') ? undefined : true),
      5_000,
    );
    const before = await rowsOf(second);
    await closeDataSource(second);
    // The journal the file already holds, as a crash before its removal leaves it.
    copyFileSync(join(dir, 'journal.copy'), join(dir, 'essays.sqlite-journal.0'));

    const third = await openDatabase();

    expect(await rowsOf(third)).toEqual(before);
    expect(journalFiles()).not.toContain('essays.sqlite-journal.0');
  });

  it('gives the same rows after a crash between starting the new journal and rewriting the file', async () => {
    const first = await openDatabase();
    for (const title of ['a', 'b']) await first.getRepository(Essay).insert(essay(first, title));
    await closeDataSource(first);
    // The checkpoint's temporary file (atomicFileWriter names the first one
    // <file>.<pid>.0.tmp) taken by a directory: the file is never rewritten,
    // as if the process died before the rename.
    mkdirSync(`${file}.${process.pid}.0.tmp`);

    const second = await openDatabase({ minCheckpointBytes: 1 });
    // Until the journal has moved on to its next generation, and two essays into it.
    for (let i = 0; !journalFiles().includes('essays.sqlite-journal.1') && i < 40; i++) {
      await second.getRepository(Essay).insert(essay(second, `c${i}`, { text: 'y'.repeat(8_000) }));
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const title of ['d', 'e']) await second.getRepository(Essay).insert(essay(second, title));
    const before = await rowsOf(second);
    await closeDataSource(second);
    rmSync(`${file}.${process.pid}.0.tmp`, { recursive: true });

    const third = await openDatabase();

    expect(journalFiles()).toEqual(
      expect.arrayContaining(['essays.sqlite-journal.0', 'essays.sqlite-journal.1']),
    );
    expect(await rowsOf(third)).toEqual(before);
  });

  it('refuses, before it runs, a write that asks SQLite for the time', async () => {
    const dataSource = await openDatabase();

    await expect(
      dataSource.query(
        `INSERT INTO batches (id, total, created_at) VALUES ('b1', 1, datetime('now'))`,
      ),
    ).rejects.toThrow(/give the value as a parameter/);
    expect(await dataSource.getRepository(Batch).count()).toBe(0);
  });

  it('is read by readEmbeddedDatabase as the service would open it, changing nothing on disk', async () => {
    const dataSource = await openDatabase();
    await dataSource.getRepository(Essay).insert(essay(dataSource, 'read me'));
    const sizes = () => readdirSync(dir).map((name) => [name, statSync(join(dir, name)).size]);
    const onDisk = sizes();

    const database = await readEmbeddedDatabase(file);
    try {
      expect(database.exec('SELECT title FROM essays')[0].values).toEqual([['read me']]);
    } finally {
      database.close();
    }
    expect(sizes()).toEqual(onDisk);
  });
});
