// What tracing costs per request: the built essay service, started with the
// documented `--import nestjs-production-readiness/tracing`, with tracing off
// (the default: enabled, no endpoint), on and unsampled (parentbased_always_off),
// and on and sampled (exporting OTLP/HTTP JSON to a sink in this process).
// A benchmark, not a test: it measures and reports, it asserts nothing.
//
//   npm run build && node bench/tracing-overhead.mjs [--duration=S] [--connections=N] [--route=PATH]
//
// CPU µs/request is the server's own CPU time (utime + stime from
// /proc/<pid>/stat, all threads) over the measured window, divided by the
// requests it answered in it, so the load generator's cost is left out.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = join(ROOT, 'dist/apps/essay-service/main.js');
const args = Object.fromEntries(
  process.argv.slice(2).map((arg) => {
    const [name, value = 'true'] = arg.replace(/^--/, '').split('=');
    return [name, value];
  }),
);
const duration = Number(args.duration ?? 10);
const connections = Number(args.connections ?? 10);
// A 404 after a database lookup: routing, validation, the database, the problem body.
const route = args.route ?? '/essays/00000000-0000-4000-8000-000000000000';
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

let exportedSpans = 0;
const sink = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk) => (body += chunk));
  request.on('end', () => {
    exportedSpans += (body.match(/"spanId"/g) ?? []).length;
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const endpoint = `http://127.0.0.1:${sink.address().port}`;

const freePort = () =>
  new Promise((r) => {
    const server = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => r(port));
    });
  });

function cpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

const variants = {
  off: {},
  'on, unsampled': {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_TRACES_SAMPLER: 'parentbased_always_off',
  },
  'on, sampled': {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  },
};

const results = [];
for (const [name, env] of Object.entries(variants)) {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'nestjs-production-readiness/tracing', MAIN], {
    cwd: ROOT,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: 'sqlite::memory:',
      SERVICE_NAME: 'tracing-bench',
      LOG_LEVEL: 'WARNING',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}${route}`;
  for (let tries = 0; ; tries++) {
    try {
      await fetch(url);
      break;
    } catch {
      if (tries > 200) throw new Error(`${name}: the service did not start`);
      await sleep(100);
    }
  }
  await autocannon({ url, connections, duration: Math.max(1, duration / 3) }); // warm-up
  const spansBefore = exportedSpans;
  const ticksBefore = cpuTicks(child.pid);
  const run = await autocannon({ url, connections, duration });
  const cpuSeconds = (cpuTicks(child.pid) - ticksBefore) / TICKS_PER_SECOND;
  const requests = run.requests.total;
  child.kill('SIGKILL');
  await sleep(200);
  results.push({
    variant: name,
    'req/s': Math.round(run.requests.average),
    'p50 ms': run.latency.p50,
    'p99 ms': run.latency.p99,
    'CPU µs/req': Math.round((cpuSeconds / requests) * 1e6),
    'spans/req': Number(((exportedSpans - spansBefore) / requests).toFixed(2)),
  });
}
sink.close();
console.log(`GET ${route}, ${connections} connections, ${duration} s measured per variant`);
console.table(results);
