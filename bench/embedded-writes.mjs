// How fast the sample app stores essays on its embedded default (`npm start`,
// no environment: SQLite in a file, a 202 only once the essay is on disk), and
// whether a write costs more as the database fills: POST /essays at 10
// connections (closed loop, autocannon) with 1k, 10k and 100k essays stored,
// and PostgreSQL beside it. A benchmark, not a test: it measures and reports.
//
//   npm run build && node bench/embedded-writes.mjs
//   node bench/embedded-writes.mjs --quick        # 1k only, 2 s
//
// Options: --sizes=1000,10000,100000, --connections=10, --warmup=S (2), --duration=S (5),
//          --postgres=URL (default postgres://postgres@127.0.0.1:5432/test; a database
//            bench_embedded_writes is made there afresh; --postgres=none to skip),
//          --node=PATH (the Node.js binary that runs the app; default this one),
//          --out=PATH (default bench/results/embedded-writes.json), --no-pin.
//
// Stored essays are put in beforehand through the app's own database code
// (dist/apps/essay-service/database), as processed essays of ~1 KB, so the
// app's redelivery has nothing to do; the app then runs as `npm start` runs it.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { cliArgs } from './cli-args.mjs';
import { cpuModelName, hasTaskset } from './machine.mjs';
import { processCpuUs, ROOT, startSampleApp } from './sample-app.mjs';

const args = cliArgs();
const quick = args.has('quick');
const number = (name, fallback) => (args.has(name) ? Number(args.get(name)) : fallback);
const settings = {
  sizes: args.has('sizes')
    ? String(args.get('sizes')).split(',').map(Number)
    : quick
      ? [1_000]
      : [1_000, 10_000, 100_000],
  connections: number('connections', 10),
  warmupSeconds: number('warmup', quick ? 1 : 2),
  durationSeconds: number('duration', quick ? 2 : 5),
  postgres: args.has('postgres')
    ? String(args.get('postgres'))
    : quick
      ? 'none'
      : 'postgres://postgres@127.0.0.1:5432/test',
};
const out = resolve(
  args.has('out')
    ? String(args.get('out'))
    : quick
      ? join(tmpdir(), 'npr-bench-embedded-writes', 'embedded-writes-quick.json')
      : join(ROOT, 'bench', 'results', 'embedded-writes.json'),
);
const appNode = args.has('node') ? resolve(String(args.get('node'))) : process.execPath;
const appNodeVersion = execFileSync(appNode, ['--version'], { encoding: 'utf8' }).trim();
const pinned = availableParallelism() >= 2 && hasTaskset() && !args.has('no-pin');
if (pinned) execFileSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });

const dist = (path) => import(pathToFileURL(join(ROOT, 'dist/apps/essay-service', path)).href);
const { SqliteJournal } = await dist('database/sqlite-journal.js');
const { databaseOptionsFor } = await dist('database/database.options.js');
const { insertAtomically } = await dist('database/insert-atomically.js');
const { Essay } = await dist('essays/essay.entity.js');
const { DataSource } = await import('typeorm');

// About 1 KB, 170 words: a short essay.
const TEXT = Array.from(
  { length: 17 },
  (_, i) => `Sentence ${i + 1} of the essay says something about bridges and rivers.`,
).join(' ');
const BODY = JSON.stringify({ title: 'On bridges', text: TEXT });

/** Adds processed essays to the file until it holds `target`; returns the export's time at that size. */
async function fillTo(file, target) {
  const { database, journal } = await SqliteJournal.open(file);
  const dataSource = await new DataSource({
    ...(await databaseOptionsFor({
      DATABASE_URL: 'sqlite::memory:',
      DATABASE_POOL_SIZE: 1,
      DATABASE_MAX_OVERFLOW: 0,
    })),
    database,
    subscribers: [journal.subscriber()],
  }).initialize();
  try {
    const essays = dataSource.getRepository(Essay);
    for (let stored = await essays.count(); stored < target;) {
      const now = new Date();
      const rows = Array.from({ length: Math.min(1_000, target - stored) }, () =>
        essays.create({
          id: randomUUID(),
          title: 'On bridges',
          text: TEXT,
          language: null,
          status: 'processed',
          wordCount: 170,
          sentenceCount: 17,
          readabilityScore: 60,
          detectedLanguage: 'en',
          correlationId: null,
          batchId: null,
          idempotencyKey: null,
          createdAt: now,
          processedAt: now,
          grammarCheck: 'disabled',
          grammarIssues: null,
        }),
      );
      // 1,000 rows a statement would pass SQLite's limit of bound parameters.
      for (let i = 0; i < rows.length; i += 50) {
        await insertAtomically(dataSource, [{ target: Essay, rows: rows.slice(i, i + 50) }]);
      }
      stored += rows.length;
    }
    // What a checkpoint's export (it blocks the event loop) costs at this size.
    const startedAt = performance.now();
    const bytes = dataSource.driver.export().byteLength;
    return { exportMs: performance.now() - startedAt, databaseBytes: bytes };
  } finally {
    await dataSource.destroy();
    await journal.close();
  }
}

const filesBytes = (dir) =>
  readdirSync(dir)
    .filter((name) => name.startsWith('essay-service.sqlite'))
    .reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);

async function measure(env) {
  const app = await startSampleApp({ env, pinned, node: appNode });
  try {
    const request = { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY };
    const run = (duration) =>
      autocannon({
        url: `${app.origin}/essays`,
        connections: settings.connections,
        duration,
        requests: [request],
      });
    await run(settings.warmupSeconds);
    const cpuAt = processCpuUs(app.pid);
    const result = await run(settings.durationSeconds);
    const cpuUs = processCpuUs(app.pid) - cpuAt;
    const accepted = result['2xx'];
    if (app.died) throw new Error(`the app died: ${JSON.stringify(app.died)}\n${app.logTail()}`);
    return {
      startSeconds: app.startSeconds,
      writesPerSecond: accepted / settings.durationSeconds,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      appCpuUsPerWrite: accepted ? cpuUs / accepted : undefined,
      dataDir: app.dataDir,
    };
  } finally {
    await app.stop({ signal: 'SIGTERM' });
  }
}

const runs = [];
const dataDir = mkdtempSync(join(tmpdir(), 'npr-embedded-writes-'));
const file = join(dataDir, 'essay-service.sqlite');
try {
  for (const size of settings.sizes) {
    const { exportMs, databaseBytes } = await fillTo(file, size);
    const result = await measure({ DATABASE_URL: `sqlite:${file}` });
    delete result.dataDir;
    const run = {
      database: 'embedded',
      storedAtStart: size,
      databaseBytesAtStart: databaseBytes,
      checkpointExportMs: exportMs,
      filesBytesAfter: filesBytes(dataDir),
      ...result,
    };
    runs.push(run);
    console.log(
      `embedded, ${size} stored: ${run.writesPerSecond.toFixed(0)} writes/s, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms, ` +
        `${run.appCpuUsPerWrite?.toFixed(0)} µs CPU/write, start ${run.startSeconds.toFixed(1)} s, ` +
        `export ${exportMs.toFixed(0)} ms of ${(databaseBytes / 1e6).toFixed(1)} MB, non-2xx ${run.non2xx}`,
    );
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}

// The floor: the same app on an in-memory database (nothing on disk, nothing durable).
{
  const result = await measure({ DATABASE_URL: 'sqlite::memory:' });
  rmSync(result.dataDir, { recursive: true, force: true });
  delete result.dataDir;
  runs.push({ database: 'in-memory (not durable)', storedAtStart: 0, ...result });
  console.log(
    `in-memory: ${result.writesPerSecond.toFixed(0)} writes/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ` +
      `${result.appCpuUsPerWrite?.toFixed(0)} µs CPU/write`,
  );
}

if (settings.postgres !== 'none') {
  const admin = new pg.Client({ connectionString: settings.postgres });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS bench_embedded_writes');
  await admin.query('CREATE DATABASE bench_embedded_writes');
  await admin.end();
  const url = new URL(settings.postgres);
  url.pathname = '/bench_embedded_writes';
  const result = await measure({ DATABASE_URL: url.toString() });
  rmSync(result.dataDir, { recursive: true, force: true });
  delete result.dataDir;
  runs.push({ database: 'postgres', storedAtStart: 0, ...result });
  console.log(
    `postgres: ${result.writesPerSecond.toFixed(0)} writes/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ` +
      `${result.appCpuUsPerWrite?.toFixed(0)} µs CPU/write`,
  );
}

mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: {
        cores: availableParallelism(),
        cpuModel: cpuModelName(),
        node: process.version,
        appNode: appNodeVersion,
        pinned,
      },
      settings,
      runs,
    },
    null,
    2,
  )}\n`,
);
console.log(`results: ${out}`);
