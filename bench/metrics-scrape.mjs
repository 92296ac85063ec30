// What rendering /metrics costs with many series, and how long it holds the
// event loop, next to prom-client's own registry.metrics(); plus what
// recording one HTTP request in the metrics costs, next to prom-client's own
// Counter and Histogram. A benchmark, not a test:
// it measures and reports, it asserts nothing.
//
//   npm run build:lib && node bench/metrics-scrape.mjs      # ~20 s
//
// Options: --series=1000,10000 (sample lines of a labelled counter, besides the
//          default process metrics), --repeats=N (default 15, medians reported),
//          --load-seconds=S (default 5: each phase of the under-load measurement),
//          --out=PATH (default bench/results/metrics-scrape.json).
//
// The registry is the library's MetricsRegistry on prom-client's default
// registry, as in an app. Event-loop hold is measured by a 1 ms interval timer
// running beside the render: the longest gap between two of its ticks, less
// the 1 ms it asked for, is the longest time the render kept other work waiting.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MetricsRegistry } from 'nestjs-production-readiness';
// Internal pieces, measured alone: from the build, not the package's public entry.
import { HttpMetrics } from '../libs/production-readiness/dist/metrics/http-metrics.js';
import { DEFAULT_HTTP_DURATION_BUCKETS } from '../libs/production-readiness/dist/metrics/metrics.options.js';
import { Counter, Histogram, Registry } from 'prom-client';
import { cliArgs } from './cli-args.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = cliArgs();
const seriesCounts = String(args.get('series') ?? '1000,10000')
  .split(',')
  .map(Number);
const repeats = Number(args.get('repeats') ?? 15);
const loadSeconds = Number(args.get('load-seconds') ?? 5);
const out = resolve(String(args.get('out') ?? `${here}/results/metrics-scrape.json`));

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Runs `render` while a 1 ms timer ticks; returns its duration and the longest tick gap. */
async function measure(render) {
  let last = performance.now();
  let longestGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, 1);
  await new Promise((resolveTick) => setTimeout(resolveTick, 5));
  longestGap = 0;
  last = performance.now();
  const startedAt = performance.now();
  const body = await render();
  const durationMs = performance.now() - startedAt;
  await new Promise((resolveTick) => setTimeout(resolveTick, 3));
  clearInterval(ticker);
  return { durationMs, holdMs: Math.max(0, longestGap - 1), bytes: body.length };
}

const config = { SERVICE_NAME: 'bench', METRICS_ENABLED: true };
const metrics = new MetricsRegistry(config, { maxLabelValues: 100_000 });
const results = {
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  scrape: [],
  record: {},
};

let declared = 0;
for (const series of seriesCounts) {
  const counter = metrics.counter({
    name: `bench_things_${series}_total`,
    help: 'Bench series.',
    labelNames: ['route', 'status_code'],
  });
  for (let n = 0; n < series; n++)
    counter.inc({ route: `/r/${n % 500}`, status_code: String(200 + Math.floor(n / 500)) });
  declared += series;
  const samples = { ours: [], oursOpenMetrics: [], promClient: [] };
  for (let r = 0; r < repeats; r++) {
    samples.ours.push(await measure(async () => (await metrics.exposition('prometheus')).body));
    samples.oursOpenMetrics.push(
      await measure(async () => (await metrics.exposition('openmetrics')).body),
    );
    samples.promClient.push(await measure(() => metrics.registry.metrics()));
  }
  const summary = Object.fromEntries(
    Object.entries(samples).map(([name, runs]) => [
      name,
      {
        renderMs: +median(runs.map((run) => run.durationMs)).toFixed(2),
        eventLoopHoldMs: +median(runs.map((run) => run.holdMs)).toFixed(2),
        worstHoldMs: +Math.max(...runs.map((run) => run.holdMs)).toFixed(2),
        bytes: runs[0].bytes,
      },
    ]),
  );
  results.scrape.push({ labelledSeries: declared, ...summary });
  console.log(`${declared} labelled series:`, JSON.stringify(summary));
}

// Under load: a plain HTTP server in this process answers /hello (recording
// the HTTP metrics) and /metrics; autocannon, in another process, loads
// /hello for a few seconds without scrapes, then with a scrape of every series
// above every 250 ms. Reported: the load's p99 latency and this event loop's
// delay (p99 and max) in each phase.
async function underLoad(seconds) {
  const server = createServer((request, response) => {
    const startedAt = performance.now();
    if (request.url === '/metrics') {
      metrics.exposition('prometheus').then(({ contentType, body }) => {
        response.writeHead(200, { 'content-type': contentType }).end(body);
      });
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    httpForLoad.record({
      method: 'GET',
      route: '/hello',
      statusCode: 200,
      durationMs: performance.now() - startedAt,
    });
  });
  await new Promise((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const url = `http://127.0.0.1:${server.address().port}`;
  const phase = async (scrape) => {
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const load = spawn(
      process.execPath,
      [autocannonBin, '-j', '-c', '10', '-d', String(seconds), `${url}/hello`],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let output = '';
    load.stdout.on('data', (chunk) => (output += chunk));
    let scrapes = 0;
    let failedScrapes = 0;
    const inFlight = new Set();
    const scraper = scrape
      ? setInterval(() => {
          scrapes += 1;
          const scraped = fetch(`${url}/metrics`)
            .then((r) => r.text())
            .catch(() => (failedScrapes += 1))
            .finally(() => inFlight.delete(scraped));
          inFlight.add(scraped);
        }, 250)
      : undefined;
    await new Promise((resolveExit) => load.once('exit', resolveExit));
    clearInterval(scraper);
    // A scrape still in flight when the server closes would otherwise fail
    // unhandled and end the run with exit 1.
    await Promise.all(inFlight);
    delay.disable();
    const result = JSON.parse(output);
    return {
      scrapes,
      failedScrapes,
      reqPerSec: Math.round(result.requests.average),
      latencyP99Ms: result.latency.p99,
      eventLoopDelayP99Ms: +(delay.percentile(99) / 1e6).toFixed(2),
      eventLoopDelayMaxMs: +(delay.max / 1e6).toFixed(2),
    };
  };
  const quiet = await phase(false);
  const scraped = await phase(true);
  server.close();
  return { quiet, scraped };
}
const autocannonBin = resolve(here, '../node_modules/autocannon/autocannon.js');
const httpForLoad = new HttpMetrics(metrics, {});
results.underLoad = { labelledSeries: declared, ...(await underLoad(loadSeconds)) };
console.log(`under load with ${declared} labelled series:`, JSON.stringify(results.underLoad));

// Recording one finished request: the cached-children path an app takes.
const http = new HttpMetrics(metrics, {});
const routes = ['/essays', '/essays/:id', '/batches', '/batches/:id'];
for (const route of routes) http.record({ method: 'GET', route, statusCode: 200, durationMs: 3 });
const N = 2_000_000;
const perOp = [];
for (let r = 0; r < 5; r++) {
  const startedAt = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    http.record({ method: 'GET', route: routes[i & 3], statusCode: 200, durationMs: i % 50 });
  }
  perOp.push(Number(process.hrtime.bigint() - startedAt) / N);
}
results.record = { nsPerRequest: +median(perOp).toFixed(0) };
console.log(`recording one request: ${results.record.nsPerRequest} ns (median of 5 × ${N})`);

// The same recording through prom-client's own Counter and Histogram, with the
// same buckets and the children of each label set kept in the same nested
// maps (the fastest use of its public API): what RedMetrics is measured against.
const promRegistry = new Registry();
const promCounter = new Counter({
  name: 'bench_http_requests_total',
  help: 'Bench.',
  labelNames: ['method', 'route', 'status_code'],
  registers: [promRegistry],
});
const promHistogram = new Histogram({
  name: 'bench_http_request_duration_seconds',
  help: 'Bench.',
  labelNames: ['method', 'route', 'status_code'],
  buckets: [...DEFAULT_HTTP_DURATION_BUCKETS],
  registers: [promRegistry],
});
const promSeries = new Map();
const promRecord = ({ method, route, statusCode, durationMs }) => {
  let byRoute = promSeries.get(method);
  if (!byRoute) promSeries.set(method, (byRoute = new Map()));
  let byStatus = byRoute.get(route);
  if (!byStatus) byRoute.set(route, (byStatus = new Map()));
  let children = byStatus.get(statusCode);
  if (!children) {
    const labels = { method, route, status_code: String(statusCode) };
    children = { count: promCounter.labels(labels), duration: promHistogram.labels(labels) };
    byStatus.set(statusCode, children);
  }
  children.count.inc();
  children.duration.observe(durationMs / 1000);
};
const promPerOp = [];
for (let r = 0; r < 5; r++) {
  const startedAt = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    promRecord({ method: 'GET', route: routes[i & 3], statusCode: 200, durationMs: i % 50 });
  }
  promPerOp.push(Number(process.hrtime.bigint() - startedAt) / N);
}
results.record.promClientNsPerRequest = +median(promPerOp).toFixed(0);
console.log(
  `recording one request with prom-client's Counter and Histogram: ${results.record.promClientNsPerRequest} ns`,
);

mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ at: new Date().toISOString(), ...results }, null, 2)}\n`);
console.log(`written ${out}`);
