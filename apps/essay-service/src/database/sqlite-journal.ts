import { mkdirSync } from 'node:fs';
import { open, readdir, readFile, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Logger } from '@nestjs/common';
import { ErrorCode, ServiceError } from 'nestjs-production-readiness';
import initSqlJs, { type Database as SqlJsDatabase, type SqlValue } from 'sql.js';
import type {
  AfterQueryEvent,
  BeforeQueryEvent,
  DataSource,
  EntitySubscriberInterface,
} from 'typeorm';
import { EventSubscriber } from 'typeorm';
import { atomicFileWriter, isDiskUnavailable } from './atomic-file-writer.js';

// Why a journal of our own: sql.js (the embedded engine, WebAssembly, so it
// runs on every Node version without compiling a native addon) keeps the
// database in memory and can only hand it out whole. Saving it after each
// write, as TypeORM's autoSave does, costs the whole file per write: 46
// writes/s at 1,100 essays and falling as the file grows. So each write is
// appended to a journal beside the file instead, fsynced together with the
// writes that arrived while the previous fsync ran (a group commit), and the
// whole file is rewritten only once the journal has grown as large as it.

/** One statement as it ran: its SQL and its bound parameters. */
export type JournaledStatement = [sql: string, parameters: SqlValue[]];

export interface SqliteJournalOptions {
  /**
   * The journal is rewritten into the file once it holds this much, or the
   * file's size if larger: each byte written is rewritten about once more.
   * @default 16 MiB
   */
  minCheckpointBytes?: number;
}
/** While the disk refuses the journal, it is tried again this often. */
const RETRY_AFTER_FAILURE_MS = 1_000;
/** A record: its payload's length and CRC-32 (4 bytes each, little-endian), then the payload. */
const RECORD_HEADER_BYTES = 8;

// Statements that only read leave nothing to replay.
const READ_ONLY = /^\s*(SELECT|EXPLAIN|PRAGMA\s+[\w."]+\s*(\(|;|$))/i;
// A replayed statement must give the row it gave the first time: a value the
// database makes up (the clock, chance) would come out different.
const CHANGES_ROWS = /^\s*(INSERT|UPDATE|REPLACE|DELETE|WITH)\b/i;
const NOT_REPLAYABLE =
  /\b(CURRENT_(TIMESTAMP|DATE|TIME)|random(blob)?\s*\(|(datetime|date|time|julianday|strftime|unixepoch)\s*\([^)]*'now')/i;

/** The journal files of `file` (`<file>-journal.<generation>`), oldest first. */
async function journalFilesOf(file: string): Promise<{ generation: number; path: string }[]> {
  const prefix = `${basename(file)}-journal.`;
  const names = await readdir(dirname(file)).catch(() => [] as string[]);
  return names
    .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
    .map((name) => ({
      generation: Number(name.slice(prefix.length)),
      path: join(dirname(file), name),
    }))
    .sort((a, b) => a.generation - b.generation);
}

const journalFileOf = (file: string, generation: number) => `${file}-journal.${generation}`;

// Parameters as JSON: blobs need a tag of their own.
const encodeParameter = (value: SqlValue): unknown =>
  value instanceof Uint8Array ? { blob: Buffer.from(value).toString('base64') } : value;
const decodeParameter = (value: unknown): SqlValue =>
  value !== null && typeof value === 'object'
    ? new Uint8Array(Buffer.from((value as { blob: string }).blob, 'base64'))
    : (value as SqlValue);

function encodeRecord(statements: JournaledStatement[]): Buffer {
  const payload = Buffer.from(
    JSON.stringify(statements.map(([sql, parameters]) => [sql, parameters.map(encodeParameter)])),
  );
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  record.writeUInt32LE(payload.length, 0);
  record.writeUInt32LE(crc32(payload), 4);
  payload.copy(record, RECORD_HEADER_BYTES);
  return record;
}

/**
 * The whole records at the start of `content`, and where they end: a record
 * cut short or damaged (the process died while appending it) ends the journal.
 */
function decodeRecords(content: Buffer): { records: JournaledStatement[][]; end: number } {
  const records: JournaledStatement[][] = [];
  let offset = 0;
  while (offset + RECORD_HEADER_BYTES <= content.length) {
    const length = content.readUInt32LE(offset);
    const start = offset + RECORD_HEADER_BYTES;
    if (start + length > content.length) break;
    const payload = content.subarray(start, start + length);
    if (crc32(payload) !== content.readUInt32LE(offset + 4)) break;
    const statements = JSON.parse(payload.toString()) as [string, unknown[]][];
    records.push(statements.map(([sql, parameters]) => [sql, parameters.map(decodeParameter)]));
    offset = start + length;
  }
  return { records, end: offset };
}

/** How a statement moves the transaction depth: BEGIN, SAVEPOINT, RELEASE, COMMIT, ROLLBACK. */
function depthAfter(depth: number, sql: string): number {
  const command = /^\s*(\w+)(\s+TO\b)?/i.exec(sql);
  switch (command?.[1].toUpperCase()) {
    case 'BEGIN':
      return 1;
    case 'SAVEPOINT':
      return depth + 1;
    case 'RELEASE':
      return Math.max(depth - 1, 0);
    case 'COMMIT':
    case 'END':
      return 0;
    case 'ROLLBACK':
      return command[2] ? depth : 0;
    default:
      return depth;
  }
}

interface Loaded {
  database: SqlJsDatabase;
  /** The generation of the journal that continues the database. */
  generation: number;
  /** Journal files the file's snapshot already holds, and a torn record's bytes, to remove. */
  covered: string[];
  torn: { path: string; end: number }[];
  journalBytes: number;
  hasSnapshot: boolean;
}

async function load(file: string): Promise<Loaded> {
  const SQL = await initSqlJs();
  const snapshot = await readFile(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  const database = new SQL.Database(snapshot);
  // The snapshot's user_version is the first journal generation it does not hold.
  const base = Number(database.exec('PRAGMA user_version')[0].values[0][0]);
  const journals = await journalFilesOf(file);
  const covered: string[] = [];
  const torn: Loaded['torn'] = [];
  let generation = base;
  let journalBytes = 0;
  let depth = 0;
  for (const journal of journals) {
    if (journal.generation < base) {
      covered.push(journal.path);
      continue;
    }
    const content = await readFile(journal.path);
    const { records, end } = decodeRecords(content);
    if (end < content.length) torn.push({ path: journal.path, end });
    for (const [index, statements] of records.entries()) {
      for (const [sql, parameters] of statements) {
        try {
          database.run(sql, parameters);
        } catch (error) {
          database.close();
          throw new Error(
            `${journal.path}: record ${index + 1} does not replay on ${file} (${(error as Error).message}); ` +
              'the journal and the file do not belong together',
            { cause: error },
          );
        }
        depth = depthAfter(depth, sql);
      }
    }
    generation = journal.generation;
    journalBytes += end;
  }
  // The process died inside a transaction: what it did not commit is undone.
  if (depth > 0) database.run('ROLLBACK');
  return { database, generation, covered, torn, journalBytes, hasSnapshot: snapshot !== undefined };
}

/**
 * The embedded database as the service would open it: the file with its
 * journal replayed, read-only (nothing on disk changes). Close it when done.
 */
export async function readEmbeddedDatabase(file: string): Promise<SqlJsDatabase> {
  return (await load(file)).database;
}

/** The little of TypeORM's sql.js driver used here: its one connection and its export. */
interface SqlJsDriver {
  databaseConnection: SqlJsDatabase;
  export(): Uint8Array;
}

interface Batch {
  generation: number;
  chunks: Buffer[];
  bytes: number;
  waiters: { resolve: () => void; reject: (error: Error) => void }[];
}

/**
 * The write-ahead journal of the embedded SQLite database. `open()` reads the
 * file and its journal; TypeORM is given the result as its `database` and the
 * journal's `subscriber()`, which appends every statement that writes and
 * holds the query until the journal is on disk.
 */
export class SqliteJournal {
  private readonly logger = new Logger('EmbeddedDatabase');
  private readonly writeSnapshot: (content: Uint8Array) => Promise<void>;
  private readonly batches: Batch[] = [];
  private handle: FileHandle | undefined;
  private handleGeneration = -1;
  /** The journal's size on disk once its last write is synced. */
  private durableBytes = 0;
  private draining: Promise<void> | undefined;
  private failure: ServiceError | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private depth = 0;
  private bytesSinceCheckpoint: number;
  private snapshotBytes: number;
  private isClosed = false;
  private isCheckpointDue = false;
  private configured: SqlJsDatabase | undefined;

  private constructor(
    private readonly file: string,
    private generation: number,
    journalBytes: number,
    snapshotBytes: number,
    private readonly minCheckpointBytes: number,
  ) {
    this.writeSnapshot = atomicFileWriter(file);
    this.bytesSinceCheckpoint = journalBytes;
    this.snapshotBytes = snapshotBytes;
  }

  /**
   * Reads `file` (an SQLite file, or none yet) and its journal, cuts off a
   * record the last process did not finish writing, and returns the database
   * to hand to TypeORM with the journal that continues it.
   */
  static async open(
    file: string,
    { minCheckpointBytes = 16 * 1024 * 1024 }: SqliteJournalOptions = {},
  ): Promise<{ database: Uint8Array; journal: SqliteJournal }> {
    mkdirSync(dirname(file), { recursive: true });
    const loaded = await load(file);
    const database = loaded.database.export();
    loaded.database.close();
    for (const { path, end } of loaded.torn) {
      const handle = await open(path, 'r+');
      try {
        await handle.truncate(end);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    await Promise.all(loaded.covered.map((path) => rm(path, { force: true })));
    // The file is there from the start, as users of `sqlite:<file>` expect.
    if (!loaded.hasSnapshot) {
      await atomicFileWriter(file)(database);
    }
    const journal = new SqliteJournal(
      file,
      loaded.generation,
      loaded.journalBytes,
      database.byteLength,
      minCheckpointBytes,
    );
    return { database, journal };
  }

  /** The journal that keeps this data source's writes, if it has one. */
  static of(dataSource: DataSource): SqliteJournal | undefined {
    for (const subscriber of dataSource.subscribers) {
      if (subscriber instanceof JournalSubscriber) return subscriber.journal;
    }
    return undefined;
  }

  /** The TypeORM subscriber (a class, as TypeORM's `subscribers` option takes) that feeds this journal. */
  subscriber(): new () => EntitySubscriberInterface {
    const journal = this as SqliteJournal;
    const subscriber = class extends JournalSubscriber {
      constructor() {
        super(journal);
      }
    };
    // TypeORM takes only the classes it has seen decorated.
    EventSubscriber()(subscriber);
    return subscriber;
  }

  /**
   * Before a statement runs: refuses a write whose replay would not give the
   * same row, and, while the disk refuses the journal, tries it again first
   * and refuses the write if it still fails, so nothing more piles up in memory.
   */
  beforeWrite(sql: string, driver?: SqlJsDriver): Promise<void> | void {
    if (driver && driver.databaseConnection !== this.configured)
      this.configure(driver.databaseConnection);
    if (READ_ONLY.test(sql)) return;
    if (this.isClosed) {
      throw new ServiceError(ErrorCode.DEPENDENCY_UNAVAILABLE, 'The embedded database is closed.', {
        details: { dependency: 'database', cause: 'closed' },
      });
    }
    if (CHANGES_ROWS.test(sql) && NOT_REPLAYABLE.test(sql)) {
      throw new Error(
        `The embedded database replays its journal, so a write must not ask SQLite for the time or a random value: give the value as a parameter (${sql.slice(0, 120)})`,
      );
    }
    if (this.failure) return this.recover();
  }

  /**
   * SQLite's own rollback journal kept in memory, not as a file in sql.js's
   * in-memory file system, created and deleted for every write (a quarter of
   * sql.js's time per write): the database is in memory anyway, and this
   * journal is what makes it durable.
   */
  private configure(connection: SqlJsDatabase): void {
    connection.run('PRAGMA journal_mode = MEMORY');
    this.configured = connection;
  }

  /**
   * Appends statements that ran (one record: replayed all or none) and
   * resolves once they are on disk.
   */
  append(statements: JournaledStatement[], driver: SqlJsDriver): Promise<void> {
    const writes = statements.filter(([sql]) => !READ_ONLY.test(sql));
    if (writes.length === 0) return Promise.resolve();
    for (const [sql] of writes) this.depth = depthAfter(this.depth, sql);
    const record = encodeRecord(writes);
    const durable = this.enqueue(record);
    this.bytesSinceCheckpoint += record.length;
    if (
      !this.isCheckpointDue &&
      this.bytesSinceCheckpoint >= Math.max(this.minCheckpointBytes, this.snapshotBytes)
    ) {
      // Not inside the query: TypeORM still reads the statement's row count after this.
      this.isCheckpointDue = true;
      setImmediate(() => {
        this.isCheckpointDue = false;
        // Inside a transaction the export would end it: the next write tries again.
        if (this.depth === 0 && !this.isClosed) this.checkpoint(driver);
      });
    }
    return durable;
  }

  /** Waits for the journal's last writes and closes it; later writes are refused. */
  async close(): Promise<void> {
    this.isClosed = true;
    clearTimeout(this.retryTimer);
    await this.draining;
    await this.handle?.close();
    this.handle = undefined;
  }

  private enqueue(record: Buffer): Promise<void> {
    let batch = this.batches.at(-1);
    // The first batch may be on its way to the disk; a later one still takes records.
    const isLastWriting = this.draining !== undefined && this.batches.length === 1;
    if (!batch || isLastWriting || batch.generation !== this.generation) {
      batch = { generation: this.generation, chunks: [], bytes: 0, waiters: [] };
      this.batches.push(batch);
    }
    batch.chunks.push(record);
    batch.bytes += record.length;
    const durable = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (!this.failure) void this.drain();
    return durable;
  }

  /** Writes the batches in order, each with one fsync; one loop at a time. */
  private drain(): Promise<void> {
    this.draining ??= (async () => {
      try {
        while (this.batches.length > 0) {
          const batch = this.batches[0];
          try {
            await this.write(batch);
          } catch (error) {
            this.fail(error as NodeJS.ErrnoException);
            return;
          }
          this.batches.shift();
          for (const waiter of batch.waiters) waiter.resolve();
        }
      } finally {
        this.draining = undefined;
      }
    })();
    return this.draining;
  }

  /** Writes what the disk refused before; throws if it still refuses. */
  private async recover(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.failure = undefined;
    await this.drain();
    const failure = this.failure as ServiceError | undefined;
    if (failure) throw failure;
  }

  private async write(batch: Batch): Promise<void> {
    if (this.handleGeneration !== batch.generation) {
      await this.handle?.close();
      this.handle = undefined;
      this.handle = await open(journalFileOf(this.file, batch.generation), 'a');
      this.handleGeneration = batch.generation;
      this.durableBytes = (await this.handle.stat()).size;
    }
    const handle = this.handle!;
    try {
      await handle.write(Buffer.concat(batch.chunks, batch.bytes));
      await handle.datasync();
    } catch (error) {
      // Whatever part of the batch reached the file goes: it is written again, whole.
      await handle.truncate(this.durableBytes).catch(() => undefined);
      throw error;
    }
    this.durableBytes += batch.bytes;
  }

  /**
   * The disk refused the journal. The statements already ran in memory, so
   * they are kept and written again (in order) once the disk takes them; until
   * then every write is refused before it runs, so memory and disk never part.
   */
  private fail(error: NodeJS.ErrnoException): void {
    const code = error.code ?? error.name;
    this.failure = new ServiceError(
      ErrorCode.DEPENDENCY_UNAVAILABLE,
      'The embedded database could not be written to disk.',
      {
        cause: error,
        details: { dependency: 'database', cause: `${code} writing ${this.file}-journal` },
      },
    );
    if (!isDiskUnavailable(error)) this.logger.error(`The journal could not be written: ${code}`);
    for (const batch of this.batches) {
      for (const waiter of batch.waiters) waiter.reject(this.failure);
      batch.waiters = [];
    }
    if (this.isClosed) return;
    // Also without new writes: the statements kept must reach the disk.
    this.retryTimer = setTimeout(
      () => void this.recover().catch(() => undefined),
      RETRY_AFTER_FAILURE_MS,
    );
    this.retryTimer.unref();
  }

  /**
   * Rewrites the file whole, then drops the journal it holds. The export and
   * the switch to a new journal happen at one point between two statements;
   * the file says (in its user_version) which journal continues it, so a crash
   * at any moment leaves a file and journals that replay to the same rows.
   */
  private checkpoint(driver: SqlJsDriver): void {
    const next = this.generation + 1;
    const connection = driver.databaseConnection;
    connection.run(`PRAGMA user_version = ${next}`);
    const snapshot = driver.export();
    // sql.js reopens the database on export, with SQLite's default pragmas.
    connection.run('PRAGMA foreign_keys = ON');
    this.configure(connection);
    this.generation = next;
    this.bytesSinceCheckpoint = 0;
    this.snapshotBytes = snapshot.byteLength;
    void this.writeSnapshot(snapshot)
      .then(async () => {
        const older = (await journalFilesOf(this.file)).filter((j) => j.generation < next);
        await Promise.all(older.map(({ path }) => rm(path, { force: true })));
      })
      .catch((error: Error) =>
        // The journals stay, so nothing is lost; the next checkpoint tries again.
        this.logger.warn(`The database file could not be rewritten: ${error.message}`),
      );
  }
}

/** Feeds a journal from TypeORM's query events (its public subscriber API). */
class JournalSubscriber implements EntitySubscriberInterface {
  constructor(readonly journal: SqliteJournal) {}

  beforeQuery(event: BeforeQueryEvent): Promise<void> | void {
    return this.journal.beforeWrite(event.query, event.dataSource.driver as unknown as SqlJsDriver);
  }

  afterQuery(event: AfterQueryEvent): Promise<void> | void {
    if (!event.success) return;
    const driver = event.dataSource.driver as unknown as SqlJsDriver;
    return this.journal.append([[event.query, (event.parameters ?? []) as SqlValue[]]], driver);
  }
}
