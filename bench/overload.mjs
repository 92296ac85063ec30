// Overload: the built essay service (apps/essay-service, embedded defaults:
// SQLite in a fresh temp dir, the in-process bus, API keys on) under an
// open-loop load of 0.5x, 1x, 2x and 4x its capacity, with overload
// protection on (the default) and off (OVERLOAD_PROTECTION_ENABLED=false),
// on POST /essays and on GET /essays/:id. A benchmark, not a test: it
// measures and reports, it asserts nothing.
//
//   npm run build && npm run bench:overload   # full run, about 8 min
//   node bench/overload.mjs --quick           # GET only, 1x and 4x, 2 s each, under ~40 s
//
// Why not autocannon for the load: its rate mode (`overallRate`) is closed per
// connection (each connection waits for its answer before it sends again), so
// a slow server lowers the offered rate and its latency hides the wait
// (coordinated omission). Overload is precisely the case where the clients do
// not slow down, so the load here is open loop (bench/overload-loader.mjs):
// requests due at fixed intervals whatever has been answered, on a pool of
// many keep-alive connections, latency measured from the due time, a request
// unanswered after --timeout counted as a timeout. autocannon is used only for
// the capacity, closed loop, as it is meant to be.
//
// Steps: (1) capacity of each route: a fresh protection-off app, autocannon with
// 50 connections, 2xx/s. (2) Each route at each multiple of its capacity, for
// --duration s, once with protection on and once off; by default every phase
// gets its own app process and data dir (--restart=phase), so no phase inherits
// the backlog or the database of the one before; --restart=route keeps one app
// per route and protection setting (what --quick does, to save start-ups).
// Each phase is preceded by a --warmup at 0.5x (discarded). (3) Beside the
// load, a prober (a worker thread of this process, its own connection) sends
// GET /livez every 50 ms. The app is pinned to core 0 and this process (load
// and prober) to core 1 with taskset when there are 2+ cores.
//
// Options: --quick, --duration=S (10; quick 2), --timeout=S (10; quick 3),
//          --routes=post,get (quick: get), --multiples=0.5,1,2,4 (quick: 1,4),
//          --connections=N (2048, the load's pool), --capacity-connections=N (50),
//          --capacity-duration=S (5; quick 2), --warmup=S (2; quick 0.5),
//          --restart=phase|route (phase; quick route), --probe-interval=MS (50),
//          --wait-quiet=S (10; quick 0: before each phase, wait up to S seconds for
//            other processes to use less than a quarter of a core), --no-pin,
//          --out=PATH (bench/results/overload-<date>.json; quick: a temp dir),
//          --chart-from=RESULTS.json (draw a saved run's chart again; measures nothing).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import autocannon from 'autocannon';
import { cliArgs } from './cli-args.mjs';
import { cpuModelName, hasTaskset } from './machine.mjs';
import { processCpuUs, SAMPLE_APP_MAIN, startSampleApp } from './sample-app.mjs';
import { openLoop, quantile, sorted } from './overload-loader.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const MAIN = SAMPLE_APP_MAIN;
const API_KEY = 'bench-key-0123456789abcdef';
const ESSAY = JSON.stringify({
  title: 'On bridges',
  text:
    'Bridges connect places that rivers keep apart. They carry people, goods and ideas. ' +
    'A good bridge is seldom noticed; a failing one is noticed by everyone.',
  language: 'en',
});
const ROUTES = {
  post: { method: 'POST', label: 'POST /essays', headers: { 'content-type': 'application/json' } },
  get: { method: 'GET', label: 'GET /essays/:id' },
};

// --- Options.
const args = cliArgs();
const quick = args.has('quick');
const number = (name, fallback) => (args.has(name) ? Number(args.get(name)) : fallback);
const list = (name, fallback) => (args.has(name) ? String(args.get(name)).split(',') : fallback);
const settings = {
  quick,
  durationSeconds: number('duration', quick ? 2 : 10),
  timeoutSeconds: number('timeout', quick ? 3 : 10),
  routes: list('routes', quick ? ['get'] : ['post', 'get']),
  multiples: list('multiples', quick ? ['1', '4'] : ['0.5', '1', '2', '4']).map(Number),
  connections: number('connections', 2048),
  capacityConnections: number('capacity-connections', 50),
  capacitySeconds: number('capacity-duration', quick ? 2 : 5),
  warmupSeconds: number('warmup', quick ? 0.5 : 2),
  restart: String(args.get('restart') ?? (quick ? 'route' : 'phase')),
  probeIntervalMs: number('probe-interval', 50),
  waitQuietSeconds: args.has('no-wait-quiet') ? 0 : number('wait-quiet', quick ? 0 : 10),
  maxForeignPercent: 25,
};
for (const route of settings.routes) {
  if (!ROUTES[route]) throw new Error(`unknown route ${route}: one of ${Object.keys(ROUTES)}`);
}
if (!['phase', 'route'].includes(settings.restart)) throw new Error('--restart=phase|route');
const day = new Date().toISOString().slice(0, 10);
const out = resolve(
  args.has('out')
    ? String(args.get('out'))
    : quick
      ? join(tmpdir(), 'npr-bench-overload', 'overload-quick.json')
      : join(here, 'results', `overload-${day}.json`),
);

// --- Machine and pinning (as in http-overhead.mjs).
const cores = availableParallelism();
const pinned = cores >= 2 && hasTaskset() && !args.has('no-pin');
if (pinned) {
  // Every thread of this process (and the prober's, started later) on core 1.
  execFileSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });
}
const cpuModel = cpuModelName();
const machine = {
  cores,
  cpuModel,
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  pinned,
};

// --- CPU: the app's own (/proc/<pid>/stat) and everyone else's (/proc/stat).
const TICK_US = 1e6 / 100; // USER_HZ
function machineBusyUs() {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
    return { busyUs: (user + nice + system + irq + softirq) * TICK_US, stealUs: steal * TICK_US };
  } catch {
    return undefined;
  }
}
/** Starts a reading; stop() gives the app's CPU, ours, and others' (in % of one core). */
function cpuReading(appPid) {
  const at = performance.now();
  const machineAt = machineBusyUs();
  const appAt = processCpuUs(appPid);
  const selfAt = process.cpuUsage();
  return () => {
    const elapsedUs = (performance.now() - at) * 1000;
    const self = process.cpuUsage(selfAt);
    const selfUs = self.user + self.system;
    const appNow = processCpuUs(appPid);
    const appUs = appAt === undefined || appNow === undefined ? undefined : appNow - appAt;
    const now = machineBusyUs();
    const percent = (us) => (us === undefined ? undefined : (us / elapsedUs) * 100);
    return {
      appCpuPercent: percent(appUs),
      loaderCpuPercent: percent(selfUs),
      foreignCpuPercent:
        now && machineAt && appUs !== undefined
          ? Math.max(0, percent(now.busyUs - machineAt.busyUs - appUs - selfUs))
          : undefined,
      stealPercent: now && machineAt ? percent(now.stealUs - machineAt.stealUs) : undefined,
    };
  };
}
async function waitQuiet() {
  if (!settings.waitQuietSeconds || !machineBusyUs()) return 0;
  const started = performance.now();
  while (performance.now() - started < settings.waitQuietSeconds * 1000) {
    const stop = cpuReading(process.pid);
    await sleep(1000);
    const { foreignCpuPercent, stealPercent } = stop();
    // cpuReading(process.pid) counts us as the "app": foreign is everyone but us.
    if (foreignCpuPercent + stealPercent <= settings.maxForeignPercent) break;
  }
  return (performance.now() - started) / 1000;
}

// --- The app: a fresh data dir, pinned to core 0, stdout (JSON logs) to a file there.
// A start that fails is tried again (twice, 5 s apart): on a shared machine
// another `npm run build` may be rewriting dist/ at that moment.
async function startApp(protection, attempt = 1) {
  try {
    return await startAppOnce(protection);
  } catch (error) {
    if (attempt >= 3 || !error.startFailed) throw error;
    console.warn(`  ! ${error.message.split('\n')[0]}: starting it again in 5 s`);
    await sleep(5000);
    return startApp(protection, attempt + 1);
  }
}

async function startAppOnce(protection) {
  return startSampleApp({
    pinned,
    env: {
      API_KEYS: API_KEY,
      OVERLOAD_PROTECTION_ENABLED: protection === 'on' ? undefined : 'false',
    },
  });
}

/** The request options of a route against this app (GET: an essay created first). */
async function target(app, route) {
  const headers = { 'x-api-key': API_KEY, ...ROUTES[route].headers };
  if (route === 'post') return { method: 'POST', path: '/essays', headers, body: ESSAY };
  const created = await fetch(`${app.origin}/essays`, {
    method: 'POST',
    headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
    body: ESSAY,
  });
  if (created.status !== 202) throw new Error(`POST /essays answered ${created.status}`);
  const { id } = await created.json();
  return { method: 'GET', path: `/essays/${id}`, headers };
}

/** The overload metrics the app exposes (absent when protection is not in its build). */
async function overloadMetrics(app) {
  try {
    const response = await fetch(`${app.origin}/metrics`, { signal: AbortSignal.timeout(5000) });
    const text = await response.text();
    const value = (name) => {
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
      return line === undefined ? undefined : Number(line.split(' ').at(-1));
    };
    return {
      shedTotal: value('http_requests_shed_total'),
      concurrencyLimit: value('overload_concurrency_limit'),
      consumersPaused: value('message_consumers_paused'),
    };
  } catch (error) {
    return { error: String(error?.message ?? error) };
  }
}

// --- Capacity: closed loop, autocannon.
async function capacity(route) {
  const app = await startApp('off');
  try {
    const request = await target(app, route);
    const options = {
      url: `${app.origin}${request.path}`,
      method: request.method,
      headers: request.headers,
      body: request.body,
      connections: settings.capacityConnections,
      pipelining: 1,
    };
    await autocannon({ ...options, duration: settings.warmupSeconds });
    const result = await autocannon({ ...options, duration: settings.capacitySeconds });
    const okPerSec = result['2xx'] / settings.capacitySeconds;
    return {
      okPerSec,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
    };
  } finally {
    await app.stop();
  }
}

// --- The prober: a worker thread with its own connection.
let prober;
function probe(origin, durationMs) {
  prober ??= new Worker(new URL('./overload-loader.mjs', import.meta.url), {
    workerData: { role: 'prober' },
  });
  const worker = prober;
  const answered = new Promise((resolveProbe) => {
    const onMessage = (message) => {
      if (message?.type !== 'probed') return;
      worker.off('message', onMessage);
      worker.off('error', onError);
      resolveProbe(message.result);
    };
    // A prober that died gives an empty result; the next phase gets a new one.
    const onError = (error) => {
      worker.off('message', onMessage);
      prober = undefined;
      const empty = { scheduled: 0, timeouts: 0, otherStatus: {}, errors: {} };
      resolveProbe({ ...empty, answeredLatencies: [], failed: String(error?.message ?? error) });
    };
    worker.on('message', onMessage);
    worker.once('error', onError);
  });
  worker.postMessage({
    type: 'probe',
    origin,
    path: '/livez',
    rate: 1000 / settings.probeIntervalMs,
    durationMs,
    timeoutMs: settings.timeoutSeconds * 1000,
  });
  return answered;
}

// --- One phase: the load and the prober side by side for --duration.
async function phase(app, request, route, multiple, protection, routeCapacity) {
  const rate = multiple * routeCapacity;
  const durationMs = settings.durationSeconds * 1000;
  const warm = {
    origin: app.origin,
    ...request,
    rate: 0.5 * routeCapacity,
    durationMs: settings.warmupSeconds * 1000,
    timeoutMs: settings.timeoutSeconds * 1000,
    connections: settings.connections,
  };
  if (settings.warmupSeconds > 0) await openLoop(warm);
  const before = await overloadMetrics(app);
  const cpu = cpuReading(app.pid);
  const [load, probed] = await Promise.all([
    openLoop({ ...warm, rate, durationMs }),
    probe(app.origin, durationMs),
  ]);
  const usage = cpu();
  const after = await overloadMetrics(app);
  if (app.died) {
    console.warn(
      `  ! the app exited during the phase (${JSON.stringify(app.died)}):\n${app.logTail()}`,
    );
  }
  const seconds = settings.durationSeconds;
  const ok = sorted(load.okLatencies);
  // A probe that timed out counts at the timeout in the prober's quantiles.
  const probeLatencies = sorted([
    ...probed.answeredLatencies,
    ...Array(probed.timeouts).fill(settings.timeoutSeconds * 1000),
  ]);
  const sendLag = sorted(load.sendLags);
  const otherStatuses = Object.values(load.otherStatus).reduce((a, b) => a + b, 0);
  const socketErrors = Object.values(load.errors).reduce((a, b) => a + b, 0);
  const row = {
    route,
    multiple,
    protection,
    offeredPerSec: load.scheduled / seconds,
    okPerSec: load.okInWindow / seconds,
    okOfCapacity: load.okInWindow / seconds / routeCapacity,
    okTotal: load.ok,
    shedPerSec: load.shed / seconds,
    otherErrorsPerSec: (otherStatuses + socketErrors) / seconds,
    otherStatus: load.otherStatus,
    socketErrors: load.errors,
    timeouts: load.timeouts,
    leftHanging: load.leftHanging,
    okLatencyP50Ms: quantile(ok, 0.5),
    okLatencyP99Ms: quantile(ok, 0.99),
    okLatencyMaxMs: quantile(ok, 1),
    livezP50Ms: quantile(probeLatencies, 0.5),
    livezP99Ms: quantile(probeLatencies, 0.99),
    livezMaxMs: quantile(probeLatencies, 1),
    livezProbes: probed.scheduled,
    livezFailures:
      probed.timeouts +
      Object.values(probed.otherStatus).reduce((a, b) => a + b, 0) +
      Object.values(probed.errors).reduce((a, b) => a + b, 0),
    // How late the generator sent (already inside the latencies): it kept up if small.
    sendLagP99Ms: quantile(sendLag, 0.99),
    drainMs: load.drainMs,
    peakConnections: load.peakConnections,
    peakWaitingInLoader: load.peakWaiting,
    ...usage,
    shedByApp:
      after.shedTotal === undefined ? undefined : after.shedTotal - (before.shedTotal ?? 0),
    concurrencyLimitAtEnd: after.concurrencyLimit,
    appStartSeconds: app.startSeconds,
    ...(app.died && { appExited: app.died }),
    ...(probed.failed && { proberFailed: probed.failed }),
  };
  const f = (v, digits = 0) => (v === undefined || v === null ? '?' : v.toFixed(digits));
  console.log(
    `  ${ROUTES[route].label.padEnd(16)} ${`${multiple}x`.padStart(4)} ${protection.padEnd(3)} ` +
      `offered ${f(row.offeredPerSec)}/s  2xx ${f(row.okPerSec)}/s (${f(row.okOfCapacity * 100)}%)  ` +
      `shed ${f(row.shedPerSec)}/s  other ${f(row.otherErrorsPerSec)}/s  timeouts ${row.timeouts}  ` +
      `p50/p99 ${f(row.okLatencyP50Ms)}/${f(row.okLatencyP99Ms)} ms  livez p99 ${f(row.livezP99Ms)} ms  ` +
      `[send lag p99 ${f(row.sendLagP99Ms, 1)} ms, conns ${row.peakConnections}, app CPU ${f(row.appCpuPercent)}%, ` +
      `loader ${f(row.loaderCpuPercent)}%, others ${f(row.foreignCpuPercent)}%, steal ${f(row.stealPercent)}%` +
      (row.concurrencyLimitAtEnd === undefined
        ? ']'
        : `, limit at end ${row.concurrencyLimitAtEnd}]`),
  );
  if (protection === 'on' && after.concurrencyLimit === undefined) {
    console.warn('  ! protection "on" but the app has no overload metrics: not in this build?');
  }
  return row;
}

// --- Report.
function table(capacities, rows) {
  const header = [
    'route',
    'load',
    'protection',
    'offered/s',
    '2xx/s',
    '2xx % of capacity',
    'shed/s',
    'other errors/s',
    'timeouts',
    '2xx p50 ms',
    '2xx p99 ms',
    '/livez p99 ms',
  ];
  const f = (v, digits = 0) => (v === undefined || v === null ? '—' : v.toFixed(digits));
  const ms = (v) => (v === null ? '—' : v < 10 ? v.toFixed(1) : v.toFixed(0));
  const body = rows.map((row) => [
    ROUTES[row.route].label,
    `${row.multiple}×`,
    row.protection,
    f(row.offeredPerSec),
    f(row.okPerSec),
    `${f(row.okOfCapacity * 100)} %`,
    f(row.shedPerSec),
    f(row.otherErrorsPerSec, row.otherErrorsPerSec > 0 && row.otherErrorsPerSec < 10 ? 1 : 0),
    String(row.timeouts),
    ms(row.okLatencyP50Ms),
    ms(row.okLatencyP99Ms),
    ms(row.livezP99Ms),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const left = new Set([0, 1, 2]);
  const fmt = (cells) =>
    '| ' +
    cells.map((c, i) => (left.has(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') +
    ' |';
  const capacityLine = Object.entries(capacities)
    .map(([route, c]) => `${ROUTES[route].label} ${f(c.okPerSec)} 2xx/s`)
    .join(', ');
  return [
    `Capacity (closed loop, ${settings.capacityConnections} connections, protection off): ${capacityLine}`,
    '',
    fmt(header),
    '|' +
      widths.map((w, i) => (left.has(i) ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') +
      '|',
    ...body.map(fmt),
  ].join('\n');
}

// The issue's goals, judged on the highest multiple against the lowest: met or not, never asserted.
function goals(capacities, rows) {
  const high = Math.max(...settings.multiples);
  const low = Math.min(...settings.multiples);
  const verdicts = [];
  for (const route of settings.routes) {
    for (const protection of ['on', 'off']) {
      const at = (m) =>
        rows.find((r) => r.route === route && r.protection === protection && r.multiple === m);
      const top = at(high);
      const base = at(low);
      if (!top || !base) continue;
      const cap = capacities[route].okPerSec;
      const p99Bound = 3 * base.okLatencyP99Ms;
      verdicts.push({
        route,
        protection,
        at: high,
        against: low,
        goodput: { value: top.okPerSec, bound: 0.9 * cap, met: top.okPerSec >= 0.9 * cap },
        p99: {
          value: top.okLatencyP99Ms,
          bound: p99Bound,
          met: top.okLatencyP99Ms !== null && top.okLatencyP99Ms <= p99Bound,
        },
        livez: { value: top.livezP99Ms, bound: 100, met: top.livezP99Ms < 100 },
        noneHanging: {
          timeouts: top.timeouts,
          leftHanging: top.leftHanging,
          met: top.timeouts === 0 && top.leftHanging === 0,
        },
      });
    }
  }
  return verdicts;
}
function goalLines(verdicts) {
  const yes = (met) => (met ? 'met' : 'NOT met');
  return verdicts.map(
    (v) =>
      `${ROUTES[v.route].label} at ${v.at}×, protection ${v.protection}: ` +
      `goodput ${v.goodput.value.toFixed(0)}/s vs ≥ ${v.goodput.bound.toFixed(0)} (90 % of capacity): ${yes(v.goodput.met)}; ` +
      `2xx p99 ${v.p99.value?.toFixed(0) ?? '—'} ms vs ≤ ${v.p99.bound.toFixed(0)} (3× the ${v.against}× case): ${yes(v.p99.met)}; ` +
      `/livez p99 ${v.livez.value?.toFixed(0)} ms vs < 100: ${yes(v.livez.met)}; ` +
      `hanging: ${v.noneHanging.timeouts} timed out, ${v.noneHanging.leftHanging} left: ${yes(v.noneHanging.met)}`,
  );
}

// --- Chart: per route, 2xx/s as % of capacity, 2xx p99 and /livez p99 (log) per multiple, on vs off.
function chart(saved) {
  const { rows, settings: s } = saved;
  const colours = { on: '#2980b9', off: '#e67e22' };
  const panels = [
    { key: 'okOfCapacity', title: '2xx/s, % of capacity', scale: (v) => v * 100, log: false },
    { key: 'okLatencyP99Ms', title: '2xx p99 latency, ms (log)', log: true },
    { key: 'livezP99Ms', title: '/livez p99 latency, ms (log)', log: true },
  ];
  const pw = 260;
  const ph = 170;
  const left = 50;
  const top = 50;
  const gapX = 40;
  const gapY = 70;
  const width = left + panels.length * (pw + gapX);
  const height = top + s.routes.length * (ph + gapY) + 10;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<text x="10" y="20" font-size="14">Open-loop load at multiples of capacity, overload protection on vs off (${s.durationSeconds} s per phase)</text>`,
  ];
  ['on', 'off'].forEach((p, i) => {
    parts.push(
      `<rect x="${10 + i * 110}" y="30" width="12" height="12" fill="${colours[p]}"/>`,
      `<text x="${26 + i * 110}" y="40">protection ${p}</text>`,
    );
  });
  s.routes.forEach((route, r) => {
    const y0 = top + r * (ph + gapY) + 20;
    panels.forEach((panel, c) => {
      const x0 = left + c * (pw + gapX);
      const value = (row) => {
        const v = row[panel.key];
        return v === null || v === undefined ? undefined : panel.scale ? panel.scale(v) : v;
      };
      const these = rows.filter((row) => row.route === route);
      const values = these.map(value).filter((v) => v !== undefined);
      const max = panel.log
        ? 10 ** Math.ceil(Math.log10(Math.max(10, ...values)))
        : Math.max(100, ...values) * 1.1;
      const min = panel.log ? 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(...values)))) : 0;
      const yOf = (v) =>
        panel.log
          ? y0 +
            ph -
            ((Math.log10(Math.max(v, min)) - Math.log10(min)) /
              (Math.log10(max) - Math.log10(min))) *
              ph
          : y0 + ph - (v / max) * ph;
      const xOf = (i) => x0 + ((i + 0.5) / s.multiples.length) * pw;
      parts.push(
        `<text x="${x0}" y="${y0 - 8}" font-size="12">${ROUTES[route].label}: ${panel.title}</text>`,
        `<rect x="${x0}" y="${y0}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`,
      );
      // Axis marks: decades (log) or 0/50/100 % (linear), and the goals' lines.
      const marks = panel.log
        ? Array.from({ length: Math.round(Math.log10(max / min)) + 1 }, (_, k) => min * 10 ** k)
        : [0, 50, 100];
      for (const mark of marks) {
        parts.push(
          `<line x1="${x0}" y1="${yOf(mark).toFixed(1)}" x2="${x0 + pw}" y2="${yOf(mark).toFixed(1)}" stroke="#eee"/>`,
          `<text x="${x0 - 4}" y="${(yOf(mark) + 4).toFixed(1)}" text-anchor="end">${mark}</text>`,
        );
      }
      const goal = panel.key === 'okOfCapacity' ? 90 : panel.key === 'livezP99Ms' ? 100 : undefined;
      if (goal !== undefined && goal <= max && goal >= min) {
        parts.push(
          `<line x1="${x0}" y1="${yOf(goal).toFixed(1)}" x2="${x0 + pw}" y2="${yOf(goal).toFixed(1)}" stroke="#27ae60" stroke-dasharray="4 3"/>`,
        );
      }
      s.multiples.forEach((m, i) => {
        parts.push(
          `<text x="${xOf(i).toFixed(1)}" y="${y0 + ph + 14}" text-anchor="middle">${m}×</text>`,
        );
      });
      const valueAt = (m, protection) => {
        const row = these.find((x) => x.multiple === m && x.protection === protection);
        return row && value(row);
      };
      for (const protection of ['on', 'off']) {
        const other = protection === 'on' ? 'off' : 'on';
        const points = s.multiples
          .map((m, i) => {
            const v = valueAt(m, protection);
            // The higher of the two values at a multiple gets its label above, the other below.
            const above =
              !(valueAt(m, other) > v) && !(valueAt(m, other) === v && protection === 'off');
            return v === undefined ? undefined : [xOf(i), yOf(v), v, above];
          })
          .filter(Boolean);
        parts.push(
          `<polyline fill="none" stroke="${colours[protection]}" stroke-width="2" points="${points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`,
          ...points.map(
            ([x, y, v, above]) =>
              `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="${colours[protection]}"/>` +
              `<text x="${(x + 4).toFixed(1)}" y="${(y + (above ? -5 : 13)).toFixed(1)}" fill="${colours[protection]}">${v < 10 ? v.toFixed(1) : v.toFixed(0)}</text>`,
          ),
        );
      }
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

async function writeJson(path, data) {
  let json = JSON.stringify(data, null, 2);
  try {
    // Written as the repo's `prettier --check .` expects it.
    const prettier = await import('prettier');
    json = await prettier.format(json, { ...(await prettier.resolveConfig(path)), filepath: path });
  } catch {
    json += '\n';
  }
  writeFileSync(path, json);
}

if (args.has('chart-from')) {
  const from = resolve(String(args.get('chart-from')));
  const svg = from.replace(/\.json$/, '.svg');
  writeFileSync(svg, chart(JSON.parse(readFileSync(from, 'utf8'))));
  console.log(`chart: ${svg}`);
  process.exit(0);
}

// --- Run.
try {
  statSync(MAIN);
} catch {
  throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
}
const startedAt = new Date();
console.log(
  `overload: ${settings.routes.map((r) => ROUTES[r].label).join(', ')} at ${settings.multiples.map((m) => `${m}×`).join(', ')} ` +
    `capacity, ${settings.durationSeconds} s each, protection on and off; timeout ${settings.timeoutSeconds} s, ` +
    `${settings.connections} connections, a new app per ${settings.restart}`,
);
console.log(
  `machine: ${cores} cores, ${cpuModel}, node ${process.version}, ${pinned ? 'app on core 0, load and prober on core 1' : 'not pinned'}`,
);
const capacities = {};
const rows = [];
for (const route of settings.routes) {
  capacities[route] = await capacity(route);
  const cap = capacities[route].okPerSec;
  console.log(
    `capacity ${ROUTES[route].label}: ${cap.toFixed(0)} 2xx/s (closed loop, ${settings.capacityConnections} connections, ` +
      `p99 ${capacities[route].latencyP99Ms} ms, non-2xx ${capacities[route].non2xx})`,
  );
  if (settings.restart === 'route') {
    for (const protection of ['on', 'off']) {
      await waitQuiet();
      const app = await startApp(protection);
      try {
        const request = await target(app, route);
        for (const multiple of settings.multiples) {
          rows.push(await phase(app, request, route, multiple, protection, cap));
        }
      } finally {
        await app.stop();
      }
    }
  } else {
    for (const multiple of settings.multiples) {
      for (const protection of ['on', 'off']) {
        await waitQuiet();
        const app = await startApp(protection);
        try {
          rows.push(await phase(app, await target(app, route), route, multiple, protection, cap));
        } finally {
          await app.stop();
        }
      }
    }
  }
}
await prober?.terminate();

// Rows in a stable order: route, multiple, on before off.
rows.sort(
  (a, b) =>
    settings.routes.indexOf(a.route) - settings.routes.indexOf(b.route) ||
    a.multiple - b.multiple ||
    (a.protection === 'on' ? -1 : 1),
);
const verdicts = goals(capacities, rows);
console.log(`\n${table(capacities, rows)}\n`);
for (const line of goalLines(verdicts)) console.log(line);

let distBuiltAt;
try {
  distBuiltAt = statSync(MAIN).mtime.toISOString();
} catch {
  // reported as unknown
}
const saved = {
  bench: 'overload',
  startedAt: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  machine,
  distBuiltAt,
  settings,
  capacities,
  rows,
  goals: verdicts,
};
mkdirSync(dirname(out), { recursive: true });
await writeJson(out, saved);
const svg = out.replace(/\.json$/, '.svg');
writeFileSync(svg, chart(saved));
console.log(`\nresults: ${out}\nchart: ${svg}`);
