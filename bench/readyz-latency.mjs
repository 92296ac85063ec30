// What a /readyz probe costs, seen from the prober: p50/p99 over sequential
// requests, with the check cache at its default (1000 ms) and disabled (0),
// with every dependency up and with one hanging. A benchmark, not a test: it
// measures and reports, it asserts nothing.
//
//   npm run build:lib && npx nest build essay-service   # the bench runs the built app
//   node bench/readyz-latency.mjs                       # ~40 s
//
// Options: --requests=N (default 200), --hanging-uncached=N (default 20: each of
//          these waits a whole check timeout), --gap-ms=N (default 10: the pause between two
//          requests, so a run spans several cache intervals), --out=PATH (default
//          bench/results/readyz-latency.json).
//
// The sample app runs in this process (one Nest app, sequential requests over
// one keep-alive connection, so the client never competes with the server),
// on PostgreSQL (a fresh database on 127.0.0.1:5432), a private redis-server on
// an ephemeral port, and NATS on 127.0.0.1:4222. The hanging dependency is
// that private Redis frozen with SIGSTOP: the kernel still holds its socket
// open and takes the PINGs, nobody answers (a black hole), until SIGCONT.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { createConnection, createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import { createServiceApp, ProductionReadinessModule } from 'nestjs-production-readiness';
import {
  ESSAY_SERVICE_FEATURES,
  ESSAY_SERVICE_READINESS,
} from '../dist/apps/essay-service/app.module.js';
import { cliArgs } from './cli-args.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = cliArgs();
const REQUESTS = Number(args.get('requests') ?? 200);
const HANGING_UNCACHED = Number(args.get('hanging-uncached') ?? 20);
const GAP_MS = Number(args.get('gap-ms') ?? 10);
const out = resolve(String(args.get('out') ?? join(here, 'results', 'readyz-latency.json')));
const POSTGRES_ADMIN_URL =
  process.env.TEST_POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const pg = createRequire(import.meta.url)('pg');

// --- Dependencies of the bench's own: a database and a redis-server.
async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

async function adminQuery(sql) {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

const databaseName = `readyz_bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const databaseUrl = Object.assign(new URL(POSTGRES_ADMIN_URL), {
  pathname: `/${databaseName}`,
}).toString();
const redisPort = await freePort();
const redisServer = spawn(
  'redis-server',
  [
    '--port',
    String(redisPort),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    tmpdir(),
  ],
  { stdio: 'ignore' },
);
process.once('exit', () => redisServer.kill('SIGKILL'));
await adminQuery(`CREATE DATABASE "${databaseName}"`);
for (let connected = false; !connected;) {
  const socket = createConnection(redisPort, '127.0.0.1');
  connected = await new Promise((done) =>
    socket.once('connect', () => done(true)).once('error', () => done(false)),
  );
  socket.destroy();
  if (!connected) await sleep(20);
}

// --- Measuring.
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function get(baseUrl, path) {
  return new Promise((resolvePromise, reject) => {
    const startedAt = performance.now();
    request(`${baseUrl}${path}`, { agent }, (response) => {
      response.resume();
      response.on('end', () =>
        resolvePromise({ status: response.statusCode, ms: performance.now() - startedAt }),
      );
    })
      .on('error', reject)
      .end();
  });
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function measure(baseUrl, path, count) {
  const samples = [];
  const statuses = {};
  for (let i = 0; i < count; i += 1) {
    const { status, ms } = await get(baseUrl, path);
    samples.push(ms);
    statuses[status] = (statuses[status] ?? 0) + 1;
    await sleep(GAP_MS);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (ms) => Math.round(ms * 100) / 100;
  return {
    path,
    requests: count,
    statuses,
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1)),
    /** Requests that waited for a check run rather than a cached result, roughly. */
    over100Ms: samples.filter((ms) => ms > 100).length,
    meanMs: round(samples.reduce((sum, ms) => sum + ms, 0) / count),
  };
}

async function startApp(cacheTtlMs) {
  const sink = { write: () => true };
  // The sample app's AppModule, with the bench's environment and health options.
  class ReadyzBenchModule {}
  Module({
    imports: [
      ProductionReadinessModule.forRoot({
        ...ESSAY_SERVICE_READINESS,
        envFilePath: false,
        env: {
          SERVICE_NAME: `readyz-bench-${randomBytes(3).toString('hex')}`,
          DATABASE_URL: databaseUrl,
          REDIS_URL: `redis://127.0.0.1:${redisPort}`,
          NATS_URL,
          LOG_LEVEL: 'ERROR',
        },
        health: { cacheTtlMs },
        logging: { destination: sink },
      }),
      ...ESSAY_SERVICE_FEATURES,
    ],
  })(ReadyzBenchModule);
  const app = await createServiceApp(ReadyzBenchModule);
  await app.listen(0, '127.0.0.1');
  return { app, baseUrl: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

const results = [];
try {
  for (const [label, cacheTtlMs] of [
    ['cache 1000 ms (default)', 1_000],
    ['cache disabled (0)', 0],
  ]) {
    const { app, baseUrl } = await startApp(cacheTtlMs);
    try {
      await measure(baseUrl, '/readyz', 20); // warm-up: JIT, pool connection, NATS
      const up = await measure(baseUrl, '/readyz', REQUESTS);
      const live = await measure(baseUrl, '/livez', REQUESTS);
      redisServer.kill('SIGSTOP');
      // Let the last good result expire: from here every check run hangs.
      await sleep(cacheTtlMs + 50);
      let hanging;
      try {
        hanging = await measure(baseUrl, '/readyz', cacheTtlMs === 0 ? HANGING_UNCACHED : REQUESTS);
      } finally {
        redisServer.kill('SIGCONT');
      }
      // Let queued PINGs drain and the cache forget the failure before the next app.
      await sleep(1_500);
      results.push(
        { cache: label, dependencies: 'all up', ...up },
        { cache: label, dependencies: 'all up (liveness, for reference)', ...live },
        { cache: label, dependencies: 'redis hanging (SIGSTOP)', ...hanging },
      );
    } finally {
      await app.close();
    }
  }
} finally {
  agent.destroy();
  redisServer.kill('SIGKILL');
  await adminQuery(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${databaseName}' AND pid <> pg_backend_pid()`,
  );
  await adminQuery(`DROP DATABASE IF EXISTS "${databaseName}"`);
}

const report = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  checkTimeoutMs: 1_000,
  gapMs: GAP_MS,
  results,
};
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.table(
  results.map(
    ({ cache, dependencies, path, requests, statuses, p50Ms, p99Ms, maxMs, over100Ms }) => ({
      cache,
      dependencies,
      path,
      requests,
      statuses: JSON.stringify(statuses),
      p50Ms,
      p99Ms,
      maxMs,
      over100Ms,
    }),
  ),
);
console.log(`written to ${out}`);
// NATS and pg timers may linger after close; the bench is done.
process.exit(0);
