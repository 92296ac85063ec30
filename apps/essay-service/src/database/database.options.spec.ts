import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { atomicFileWriter } from './atomic-file-writer.js';
import { databaseOptionsFor, sqliteFileOf } from './database.options.js';

const pools = { DATABASE_POOL_SIZE: 10, DATABASE_MAX_OVERFLOW: 20 };

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'essay-db-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('sqliteFileOf', () => {
  it.each([
    ['sqlite:data/essay-service.sqlite', 'data/essay-service.sqlite'],
    ['sqlite:///var/lib/essays.sqlite', '/var/lib/essays.sqlite'],
    ['sqlite:/var/lib/essays.sqlite', '/var/lib/essays.sqlite'],
    ['SQLite:data/x.sqlite', 'data/x.sqlite'],
    ['sqlite:data/my%20essays.sqlite', 'data/my essays.sqlite'],
    ['sqlite::memory:', ':memory:'],
    ['sqlite:', ':memory:'],
  ])('reads %j as %j', (url, file) => {
    expect(sqliteFileOf(url)).toBe(file);
  });
});

describe('databaseOptionsFor', () => {
  it('keeps an in-memory SQLite database off the disk', async () => {
    const options = await databaseOptionsFor({ ...pools, DATABASE_URL: 'sqlite::memory:' });

    expect(options).toMatchObject({ type: 'sqljs', migrationsRun: true, synchronize: false });
    expect(options).not.toHaveProperty('location');
    expect(options).not.toHaveProperty('autoSave');
  });

  it('opens a SQLite file with its journal, never saving the whole file per write', async () => {
    const file = join(dir, 'data', 'essays.sqlite');
    const options = await databaseOptionsFor({ ...pools, DATABASE_URL: `sqlite:${file}` });

    expect(options).toMatchObject({ type: 'sqljs', synchronize: false });
    expect(options).not.toHaveProperty('autoSave');
    expect(options).toHaveProperty('database', expect.any(Uint8Array));
    expect(options).toHaveProperty('subscribers', [expect.any(Function)]);
    expect(readdirSync(join(dir, 'data'))).toEqual(['essays.sqlite']);
  });

  it.each(['postgres://app:pw@db:5432/essays', 'postgresql://app:pw@db:5432/essays'])(
    'connects %j to PostgreSQL with a pool of POOL_SIZE + MAX_OVERFLOW',
    async (url) => {
      await expect(
        databaseOptionsFor({ DATABASE_URL: url, DATABASE_POOL_SIZE: 4, DATABASE_MAX_OVERFLOW: 6 }),
      ).resolves.toMatchObject({
        type: 'postgres',
        url,
        poolSize: 10,
        extra: { min: 4 },
        migrationsRun: true,
        synchronize: false,
      });
    },
  );

  it('uses the default pool of 10 + 20 connections', async () => {
    await expect(
      databaseOptionsFor({ ...pools, DATABASE_URL: 'postgres://db/essays' }),
    ).resolves.toMatchObject({ poolSize: 30 });
  });

  it('never waits forever for a free connection', async () => {
    await expect(
      databaseOptionsFor({ ...pools, DATABASE_URL: 'postgres://db/essays' }),
    ).resolves.toHaveProperty(['extra', 'connectionTimeoutMillis'], expect.any(Number));
  });
});

describe('atomicFileWriter', () => {
  it('creates the directory and writes the file', async () => {
    const file = join(dir, 'nested', 'deeper', 'essays.sqlite');

    await atomicFileWriter(file)(new TextEncoder().encode('first'));

    expect(readFileSync(file, 'utf8')).toBe('first');
  });

  it('ends with the last content after concurrent writes and leaves no temporary file', async () => {
    const file = join(dir, 'essays.sqlite');
    const write = atomicFileWriter(file);
    // Later snapshots are smaller, so an older one landing last would show.
    const snapshots = Array.from({ length: 25 }, (_, i) =>
      new TextEncoder().encode(`${'x'.repeat(10_000 - i * 100)}#${i}`),
    );

    await Promise.all(snapshots.map((snapshot) => write(snapshot)));

    expect(readFileSync(file, 'utf8')).toBe(`${'x'.repeat(10_000 - 24 * 100)}#24`);
    expect(readdirSync(dir)).toEqual(['essays.sqlite']);
  });

  it('replaces an existing file', async () => {
    const file = join(dir, 'essays.sqlite');
    writeFileSync(file, 'old database');

    await atomicFileWriter(file)(new TextEncoder().encode('new database'));

    expect(readFileSync(file, 'utf8')).toBe('new database');
  });

  it('keeps writing after a failed write, and leaves no temporary file from it', async () => {
    const file = join(dir, 'essays.sqlite');
    const write = atomicFileWriter(file);
    // A directory where the file should be makes the rename fail.
    mkdirSync(file);
    writeFileSync(join(file, 'keep'), '');

    await expect(write(new TextEncoder().encode('lost'))).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['essays.sqlite']);

    rmSync(file, { recursive: true });
    await write(new TextEncoder().encode('saved'));

    expect(readFileSync(file, 'utf8')).toBe('saved');
    expect(readdirSync(dir)).toEqual(['essays.sqlite']);
  });
});
