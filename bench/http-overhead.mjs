// What the production stack costs per request, on Express and on Fastify:
// the same Nest app bare, hand-wired (nestjs-pino, @willsoto/nestjs-prometheus
// with an interceptor, terminus, helmet, ValidationPipe, an API-key guard) and
// ours (ProductionReadinessModule.forRoot() with everything on); or, with
// --variants, the request context and access log alone. A benchmark, not a
// test: it measures and reports, it asserts nothing.
//
//   npm run bench                        # builds, then this (bare, hand-wired, ours and ours without
//                                        # each piece, at 10 and 50 connections) and the rest
//   npm run bench:context                # bare, context, context+logging on GET /hello
//   node bench/http-overhead.mjs --quick # smoke run: 1 s warm-up, 2 s measured, 1 repeat
//
// Options: --quick, --repeats=N, --warmup=S, --duration=S,
//          --connections=N[,N] (autocannon's connections, default 10; a list, e.g. 10,50, measures
//            every route at each count, and the results, table and chart are keyed by it too),
//          --variants=bare,hand-wired,ours (any of bare, als, context, context+logging, hand-wired, ours,
//            and ours-PIECE[+PIECE]: ours without those pieces, see --ours-without),
//          --routes=hello,validated (hello: GET small JSON; validated: POST through a
//            ValidationPipe; log: GET that logs a line), --adapters=express[,fastify],
//          --log-file=PATH (default: a new temp file; /dev/null to discard),
//          --node=PATH (the Node.js binary that runs the servers; default this one),
//          --rate=N (requests/s in all, open loop, the same for every variant; default 0: closed loop,
//            each connection sends its next request when answered),
//          --slices=N (every variant's server stays up and the variants take turns, N windows of
//            --duration each, in an order that rotates; the variants of a slice are measured
//            seconds apart, not tens of seconds as in rounds, and the median over many slices is
//            moved little by a few disturbed ones; --repeats is unused),
//          --ours-without=PIECE[,PIECE] (leave pieces out of `ours` to measure each one: access-log,
//            metrics, api-key, cors, headers),
//          --cpu-prof[=DIR] (a V8 CPU profile of each measured window, taken in the server through
//            the inspector, goes to DIR, default a temp dir; read them with bench/cpu-profile-top.mjs.
//            The profiler slows the server: CPU figures of such a run are not comparable),
//          --out=PATH (default bench/results/http-overhead.json, or http-overhead.quick.json with --quick),
//          --chart-from=RESULTS.json (draw the chart of an earlier run again, next to it; measures nothing),
//          --max-foreign=PCT (default 25: a measured window during which other processes used, plus
//            the hypervisor stole, more than PCT% of a core is measured again, up to --retries=N
//            times, default 2, 0 with --quick; the least disturbed window is kept),
//          --wait-quiet=S (default 30, 0 with --quick: before each server starts, wait up to S seconds
//            for other processes to use less than --max-foreign), --no-wait-quiet, --no-pin,
//          --baseline=DIR (another checkout of this repo, installed and built, e.g. a git worktree
//            of an earlier commit: its `ours` is measured as the variant `baseline` in the same
//            slices, through this server script copied into DIR/bench, and `ours` is reported
//            against it: the before and after of a change, paired).
//
// Each variant is a separate server process (http-overhead-server.mjs); the
// load comes from autocannon in this process. With taskset and >= 2 cores the
// server is pinned to core 0 and this process to core 1. The server reads
// process.cpuUsage() at the start and end of the measured window (asked over
// IPC) and counts the requests it received in it, so CPU µs/request is the
// server's own cost (all its threads), independent of the load generator.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { cliArgs } from './cli-args.mjs';
import { cpuModelName, hasTaskset } from './machine.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const SERVER = join(here, 'http-overhead-server.mjs');
const VARIANTS = ['bare', 'als', 'context', 'context+logging', 'hand-wired', 'ours'];
// What --ours-without and the ours-PIECE variants can leave out of ours.
const OURS_PIECES = ['access-log', 'metrics', 'api-key', 'cors', 'headers'];
// The key the variants that check API keys accept (http-overhead-server.mjs).
const BENCH_API_KEY = 'bench-key-0123456789abcdef';
const ROUTES = {
  '/hello': { method: 'GET' },
  '/log': { method: 'GET' },
  '/validated': {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      title: 'On bridges',
      text: 'Bridges connect places.',
      words: 3,
    }),
  },
};

// --- Options.
const args = cliArgs();
const quick = args.has('quick');
const number = (name, fallback) => (args.has(name) ? Number(args.get(name)) : fallback);
const list = (name, fallback) => (args.has(name) ? String(args.get(name)).split(',') : fallback);
const settings = {
  quick,
  warmupSeconds: number('warmup', quick ? 1 : 3),
  durationSeconds: number('duration', quick ? 2 : 10),
  repeats: number('repeats', quick ? 1 : 3),
  // Servers kept up, variants taking turns in this many short windows (0: rounds of new servers).
  slices: number('slices', 0),
  // Each route is measured at each of these connection counts.
  connections: list('connections', ['10']).map(Number),
  // Open loop: this many requests per second in all (0: as many as the server answers).
  rate: number('rate', 0),
  // Pieces left out of `ours`, to measure what each costs.
  oursWithout: list('ours-without', []),
  adapters: list('adapters', ['express', 'fastify']),
  routes: list('routes', ['hello', 'validated']).map((route) => `/${route.replace(/^\//, '')}`),
  variants: list('variants', ['bare', 'hand-wired', 'ours']),
  logFile: args.has('log-file')
    ? String(args.get('log-file'))
    : join(mkdtempSync(join(tmpdir(), 'http-overhead-')), 'service.log'),
  // Shared machines: CPU used by other processes during a measured window, in % of one core,
  // above which the window is measured again (the server stays up), keeping the quietest.
  maxForeignPercent: number('max-foreign', 25),
  retries: number('retries', quick ? 0 : 2),
  // Before starting each server, wait (at most this many seconds) for the machine to be quiet.
  waitQuietSeconds: args.has('no-wait-quiet') ? 0 : number('wait-quiet', quick ? 0 : 30),
  baseline: args.has('baseline') ? resolve(String(args.get('baseline'))) : undefined,
};
if (settings.baseline && !settings.variants.includes('baseline'))
  settings.variants.push('baseline');
// The baseline's server is this script, run from the baseline's checkout so that it
// imports that checkout's build of the library.
const baselineServer =
  settings.baseline && join(settings.baseline, 'bench', 'http-overhead-server.baseline.mjs');
if (baselineServer) copyFileSync(SERVER, baselineServer);
for (const variant of settings.variants) {
  if (!VARIANTS.includes(serverVariant(variant).variant))
    throw new Error(`unknown variant ${variant}: one of ${VARIANTS}`);
}
for (const route of settings.routes) {
  if (!ROUTES[route]) throw new Error(`unknown route ${route}: one of ${Object.keys(ROUTES)}`);
}
for (const connections of settings.connections) {
  if (!Number.isInteger(connections) || connections < 1)
    throw new Error(`--connections: positive integers, e.g. 10,50 (got ${connections})`);
}
const cpuProf = args.has('cpu-prof')
  ? args.get('cpu-prof') === true
    ? mkdtempSync(join(tmpdir(), 'http-overhead-prof-'))
    : resolve(String(args.get('cpu-prof')))
  : undefined;
const out = resolve(
  args.has('out')
    ? String(args.get('out'))
    : join(here, 'results', quick ? 'http-overhead.quick.json' : 'http-overhead.json'),
);

// --- Machine and pinning.
// The Node.js that runs the servers (--node=PATH), e.g. 24 beside this 20.
const serverNode = args.has('node') ? resolve(String(args.get('node'))) : process.execPath;
const serverNodeVersion = execFileSync(serverNode, ['--version'], {
  encoding: 'utf8',
}).trim();
const cores = availableParallelism();
const pinned = cores >= 2 && hasTaskset() && !args.has('no-pin');
if (pinned) {
  // Every thread of this process (autocannon included) on core 1; the servers go to core 0.
  execFileSync('taskset', ['-a', '-cp', '1', String(process.pid)], {
    stdio: 'ignore',
  });
}
const cpuModel = cpuModelName();
// Which library was measured: the working tree is built by `npm run bench:context`.
function libraryVersion(root = join(here, '..')) {
  const git = (...gitArgs) =>
    execFileSync('git', gitArgs, {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  try {
    return {
      commit: git('rev-parse', 'HEAD'),
      uncommittedChanges:
        git('status', '--porcelain', '--', 'libs/production-readiness/src') !== '',
      distBuiltAt: statSync(
        join(root, 'libs/production-readiness/dist/index.js'),
      ).mtime.toISOString(),
    };
  } catch {
    return undefined;
  }
}
const machine = {
  cores,
  node: serverNodeVersion,
  cpuModel,
  platform: `${process.platform} ${process.arch}`,
  pinned,
};

// --- Load from other processes: /proc/stat busy time of all CPUs, minus our own processes.
const TICK_US = 1e6 / 100; // USER_HZ
function cpuTicks() {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number);
    return {
      busyUs: (user + nice + system + irq + softirq) * TICK_US,
      stealUs: steal * TICK_US,
      idleUs: (idle + iowait) * TICK_US,
    };
  } catch {
    return undefined; // not Linux
  }
}
/** Starts a reading; stop(ownCpuUs) gives other processes' CPU in % of one core over the interval. */
function foreignLoad() {
  const ticks = cpuTicks();
  const at = performance.now();
  const self = process.cpuUsage();
  return (serverCpuUs = 0) => {
    const now = cpuTicks();
    if (!ticks || !now) return { foreignPercent: undefined, stealPercent: undefined };
    const elapsedUs = (performance.now() - at) * 1000;
    const own = process.cpuUsage(self);
    const foreignUs = now.busyUs - ticks.busyUs - serverCpuUs - own.user - own.system;
    return {
      foreignPercent: Math.max(0, (foreignUs / elapsedUs) * 100),
      stealPercent: ((now.stealUs - ticks.stealUs) / elapsedUs) * 100,
    };
  };
}
async function waitQuiet() {
  if (!settings.waitQuietSeconds || !cpuTicks()) return 0;
  const started = performance.now();
  while (performance.now() - started < settings.waitQuietSeconds * 1000) {
    const stop = foreignLoad();
    await new Promise((done) => setTimeout(done, 1000));
    const { foreignPercent, stealPercent } = stop();
    if (foreignPercent + stealPercent <= settings.maxForeignPercent) break;
  }
  return (performance.now() - started) / 1000;
}

// --- One server process.
// `ours-PIECE[+PIECE]` is ours without those pieces, beside ours in the same run
// (what --ours-without does to every `ours`).
function serverVariant(variant) {
  if (variant === 'baseline') {
    if (!baselineServer) throw new Error('the variant baseline needs --baseline=DIR');
    return { variant: 'ours', without: [...settings.oursWithout], server: baselineServer };
  }
  const match = /^ours-(.+)$/.exec(variant);
  const pieces = match ? match[1].split('+') : [];
  for (const piece of pieces) {
    if (!OURS_PIECES.includes(piece))
      throw new Error(`unknown piece ${piece}: one of ${OURS_PIECES}`);
  }
  return {
    variant: match ? 'ours' : variant,
    without: [...settings.oursWithout, ...pieces],
    server: SERVER,
  };
}

async function startServer(adapter, label) {
  const { variant, without, server } = serverVariant(label);
  const command = pinned ? 'taskset' : serverNode;
  const commandArgs = [
    ...(pinned ? ['-c', '0', serverNode] : []),
    server,
    adapter,
    variant,
    settings.logFile,
  ];
  const child = spawn(command, commandArgs, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_OURS_WITHOUT: without.join(',') },
  });
  const exited = once(child, 'exit');
  const next = (type) =>
    new Promise((resolveMessage, reject) => {
      const onMessage = (message) => {
        if (message?.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolveMessage(message);
      };
      const onExit = (code) =>
        reject(new Error(`${adapter}/${variant} server exited (${code}) before '${type}'`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const { port } = await next('ready');
  return {
    port,
    // --slices: the servers not being measured are stopped (SIGSTOP), so what they
    // would do while idle (timers, V8's memory reducer collecting once the load
    // stops) does not take core 0 from the one being measured.
    pause() {
      child.kill('SIGSTOP');
    },
    resume() {
      child.kill('SIGCONT');
    },
    async window(run, profile) {
      const started = next('started');
      child.send({ type: 'start', profile });
      await started;
      const load = foreignLoad();
      const result = await run();
      const stopped = next('stopped');
      child.send({ type: 'stop' });
      const server = await stopped;
      return { result, server, ...load(server.cpuUserUs + server.cpuSystemUs) };
    },
    async close() {
      child.send({ type: 'exit' });
      await exited;
    },
  };
}

function load(url, seconds, connections) {
  const route = ROUTES[new URL(url).pathname];
  return autocannon({
    url,
    connections,
    duration: seconds,
    pipelining: 1,
    ...(settings.rate > 0 && { overallRate: settings.rate }),
    method: route.method,
    body: route.body,
    headers: { 'x-api-key': BENCH_API_KEY, ...route.headers },
  });
}

// One measured window of a warmed-up server on one route, measured again while
// other processes or the hypervisor took more than --max-foreign of a core.
async function measureWindow(server, adapter, variant, route, connections, round, waitedSeconds) {
  const url = `http://127.0.0.1:${server.port}${route}`;
  // Other processes' CPU plus the hypervisor's steal: time the server could not have.
  const disturbance = (w) => (w.foreignPercent ?? 0) + (w.stealPercent ?? 0);
  let window;
  let attempts = 0;
  do {
    attempts += 1;
    const profile = cpuProf
      ? join(
          cpuProf,
          `${adapter}-${variant}${route.replaceAll('/', '-')}-c${connections}-r${round}-a${attempts}.cpuprofile`,
        )
      : undefined;
    const attempt = {
      ...(await server.window(() => load(url, settings.durationSeconds, connections), profile)),
      profile,
    };
    if (!window || disturbance(attempt) < disturbance(window)) window = attempt;
    if (disturbance(attempt) > settings.maxForeignPercent && attempts <= settings.retries) {
      console.log(
        `  (others used ${attempt.foreignPercent.toFixed(0)}% of a core, steal ${attempt.stealPercent.toFixed(0)}%: measuring again)`,
      );
    }
  } while (disturbance(window) > settings.maxForeignPercent && attempts <= settings.retries);
  const { result, server: usage, foreignPercent, stealPercent, profile } = window;
  const cpuUs = usage.cpuUserUs + usage.cpuSystemUs;
  const problems = result.errors + result.timeouts + result.non2xx;
  if (problems > 0) {
    console.warn(
      `  ! ${adapter}/${variant} ${route}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`,
    );
  }
  const measurement = {
    adapter,
    variant,
    route,
    connections,
    round,
    reqPerSec: result.requests.average,
    requests: result.requests.total,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    latencyMeanMs: result.latency.average,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    serverRequests: usage.requests,
    serverCpuUserUs: usage.cpuUserUs,
    serverCpuSystemUs: usage.cpuSystemUs,
    serverWindowMs: usage.elapsedMs,
    pendingLogBytesAtStop: usage.pendingLogBytes,
    serverCpuUtilisation: cpuUs / 1000 / usage.elapsedMs,
    cpuUsPerRequest: cpuUs / usage.requests,
    userUsPerRequest: usage.cpuUserUs / usage.requests,
    systemUsPerRequest: usage.cpuSystemUs / usage.requests,
    foreignCpuPercent: foreignPercent,
    stealPercent,
    attempts,
    waitedForQuietSeconds: waitedSeconds,
    ...(profile ? { cpuProfile: profile } : {}),
  };
  console.log(
    `  ${settings.slices ? 'slice' : 'round'} ${round} ${adapter.padEnd(7)} ${variant.padEnd(15)} ${route.padEnd(10)} c${String(connections).padEnd(3)} ` +
      `${Math.round(measurement.reqPerSec).toString().padStart(6)} req/s  p99 ${String(measurement.latencyP99Ms).padStart(3)} ms  ` +
      `${measurement.cpuUsPerRequest.toFixed(1).padStart(6)} µs/req  (server CPU ${(measurement.serverCpuUtilisation * 100).toFixed(0)}%` +
      (foreignPercent === undefined
        ? ')'
        : `, others ${foreignPercent.toFixed(0)}%, steal ${stealPercent.toFixed(1)}%)`),
  );
  return measurement;
}

const warmUp = (server, route, connections) =>
  load(`http://127.0.0.1:${server.port}${route}`, settings.warmupSeconds, connections);

// A round: one server of one variant, started, warmed up and measured on every route.
async function measure(adapter, variant, round) {
  const waitedSeconds = await waitQuiet();
  const server = await startServer(adapter, variant);
  const measurements = [];
  try {
    for (const route of settings.routes) {
      for (const connections of settings.connections) {
        await warmUp(server, route, connections);
        measurements.push(
          await measureWindow(server, adapter, variant, route, connections, round, waitedSeconds),
        );
      }
    }
  } finally {
    await server.close();
  }
  return measurements;
}

// --slices: every variant's server of an adapter stays up, and the variants take
// turns in short windows, the order rotating from slice to slice. On a VM whose
// speed drifts by tens of percent from one ten-second window to the next (seen
// on the machines of this project), the variants of a slice are measured close
// together, and many slices give a median few disturbed ones can move.
async function measureSliced(adapter) {
  const waitedSeconds = await waitQuiet();
  const servers = new Map();
  const measurements = [];
  try {
    for (const variant of settings.variants) {
      const server = await startServer(adapter, variant);
      servers.set(variant, server);
      server.pause();
    }
    for (const route of settings.routes) {
      for (const connections of settings.connections) {
        for (const server of servers.values()) {
          server.resume();
          await warmUp(server, route, connections);
          server.pause();
        }
        for (let slice = 1; slice <= settings.slices; slice++) {
          const turn = (slice - 1) % settings.variants.length;
          const order = [...settings.variants.slice(turn), ...settings.variants.slice(0, turn)];
          for (const variant of order) {
            const server = servers.get(variant);
            server.resume();
            measurements.push(
              await measureWindow(
                server,
                adapter,
                variant,
                route,
                connections,
                slice,
                waitedSeconds,
              ),
            );
            server.pause();
          }
        }
      }
    }
  } finally {
    for (const server of servers.values()) {
      server.resume();
      await server.close();
    }
  }
  return measurements;
}

// --- Statistics.
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

// summary[adapter][route][connections]: the rows of the variants.
function summarise(runs) {
  const summary = {};
  for (const adapter of settings.adapters) {
    for (const route of settings.routes) {
      for (const connections of settings.connections) {
        const rows = summariseRows(
          runs.filter(
            (run) =>
              run.adapter === adapter &&
              run.route === route &&
              (run.connections ?? connections) === connections,
          ),
        );
        ((summary[adapter] ??= {})[route] ??= {})[connections] = rows;
      }
    }
  }
  return summary;
}

// The rows of one adapter, route and connection count.
function summariseRows(runs) {
  const of = (variant) => runs.filter((run) => run.variant === variant);
  // CPU µs/request of `minuend` minus `subtrahend`'s in the same slice (round), per slice.
  const pairedDifferences = (minuend, subtrahend) =>
    of(minuend)
      .map((run) => {
        const pair = of(subtrahend).find((other) => other.round === run.round);
        return pair && run.cpuUsPerRequest - pair.cpuUsPerRequest;
      })
      .filter((value) => value !== undefined);
  const bare = of('bare');
  const bareCpu = median(bare.map((run) => run.cpuUsPerRequest));
  const rows = {};
  for (const variant of settings.variants) {
    const these = of(variant);
    const cpu = median(these.map((run) => run.cpuUsPerRequest));
    // Paired by round (the variants of a round ran back to back): how much the difference moves.
    const paired = pairedDifferences(variant, 'bare');
    rows[variant] = {
      reqPerSec: median(these.map((run) => run.reqPerSec)),
      latencyP50Ms: median(these.map((run) => run.latencyP50Ms)),
      latencyP99Ms: median(these.map((run) => run.latencyP99Ms)),
      cpuUsPerRequest: cpu,
      // User CPU is the code's own work; system CPU (socket writes, the
      // wake-ups of the client) grows as throughput falls, for any slow variant.
      userUsPerRequest: median(these.map((run) => run.userUsPerRequest)),
      systemUsPerRequest: median(these.map((run) => run.systemUsPerRequest)),
      userOverheadUsPerRequest:
        variant === 'bare'
          ? 0
          : median(these.map((run) => run.userUsPerRequest)) -
            median(bare.map((run) => run.userUsPerRequest)),
      overheadUsPerRequest: variant === 'bare' ? 0 : cpu - bareCpu,
      overheadPercent: variant === 'bare' ? 0 : ((cpu - bareCpu) / bareCpu) * 100,
      // The median of the per-round (per-slice) differences: with --slices, the steadier figure.
      pairedOverheadMedianUs: variant === 'bare' ? 0 : median(paired),
      pairedOverheadRangeUs:
        variant === 'bare' ? [0, 0] : [Math.min(...paired), Math.max(...paired)],
      cpuUsPerRequestRange: [
        Math.min(...these.map((run) => run.cpuUsPerRequest)),
        Math.max(...these.map((run) => run.cpuUsPerRequest)),
      ],
      foreignCpuPercentMedian: these.every((run) => run.foreignCpuPercent !== undefined)
        ? median(these.map((run) => run.foreignCpuPercent))
        : undefined,
      stealPercentMedian: these.every((run) => run.stealPercent !== undefined)
        ? median(these.map((run) => run.stealPercent))
        : undefined,
      runs: these.length,
    };
  }
  // The stack comparison: ours against bare and against the hand-wired anchor.
  if (rows.ours && rows.bare) {
    rows.ours.throughputOfBare = rows.ours.reqPerSec / rows.bare.reqPerSec;
    rows.ours.p99OfBare = rows.ours.latencyP99Ms / Math.max(rows.bare.latencyP99Ms, 1);
  }
  if (rows.ours && rows['hand-wired']) {
    rows.ours.throughputOfHandWired = rows.ours.reqPerSec / rows['hand-wired'].reqPerSec;
    rows.ours.overheadOfHandWired =
      rows.ours.overheadUsPerRequest / rows['hand-wired'].overheadUsPerRequest;
    rows.ours.userOverheadOfHandWired =
      rows.ours.userOverheadUsPerRequest / rows['hand-wired'].userOverheadUsPerRequest;
  }
  // Ours against the baseline build's ours (--baseline), paired by slice (round).
  if (rows.ours && rows.baseline) {
    rows.ours.overBaselineUs = rows.ours.cpuUsPerRequest - rows.baseline.cpuUsPerRequest;
    rows.ours.pairedOverBaselineMedianUs = median(pairedDifferences('ours', 'baseline'));
  }
  // What each piece costs inside ours: ours against ours without it, paired by slice (round).
  if (rows.ours) {
    for (const variant of Object.keys(rows)) {
      if (!/^ours-/.test(variant)) continue;
      rows[variant].pieceCostUs = rows.ours.cpuUsPerRequest - rows[variant].cpuUsPerRequest;
      rows[variant].pairedPieceCostMedianUs = median(pairedDifferences('ours', variant));
    }
  }
  return rows;
}

/** Results of runs before --connections took a list: summary[adapter][route] was the rows. */
function byConnections(summary, connections) {
  const out = {};
  for (const [adapter, routes] of Object.entries(summary)) {
    for (const [route, value] of Object.entries(routes)) {
      const isRows = Object.values(value).some((row) => row && 'cpuUsPerRequest' in row);
      (out[adapter] ??= {})[route] = isRows ? { [connections]: value } : value;
    }
  }
  return out;
}

// The pieces table: per adapter, route and connection count, ours and hand-wired over bare and
// what each piece left out of ours (ours-PIECE) costs, paired medians.
function piecesTable(summary) {
  const pieces = settings.variants.filter((variant) => /^ours-/.test(variant));
  const header = [
    'adapter route connections',
    'bare µs/req',
    'ours over bare',
    'hand-wired over bare',
    ...(settings.baseline ? ['baseline over bare', 'ours over baseline'] : []),
    ...pieces.map((variant) => variant.replace(/^ours-/, '')),
  ];
  const body = [];
  for (const [adapter, routes] of Object.entries(summary)) {
    for (const [route, byCount] of Object.entries(routes)) {
      for (const [connections, rows] of Object.entries(byCount)) {
        const signed = (us) => `${us >= 0 ? '+' : ''}${us.toFixed(1)}`;
        const over = (row) =>
          row
            ? `${signed(row.overheadUsPerRequest)} (p ${row.pairedOverheadMedianUs.toFixed(1)})`
            : '—';
        body.push([
          `${adapter} ${ROUTES[route].method} ${route} c${connections}`,
          rows.bare ? rows.bare.cpuUsPerRequest.toFixed(1) : '—',
          over(rows.ours),
          over(rows['hand-wired']),
          ...(settings.baseline
            ? [
                over(rows.baseline),
                rows.ours?.overBaselineUs === undefined
                  ? '—'
                  : `${signed(rows.ours.overBaselineUs)} (p ${rows.ours.pairedOverBaselineMedianUs.toFixed(1)})`,
              ]
            : []),
          ...pieces.map((variant) =>
            rows[variant]?.pairedPieceCostMedianUs === undefined
              ? '—'
              : rows[variant].pairedPieceCostMedianUs.toFixed(1),
          ),
        ]);
      }
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const fmt = (cells) =>
    '| ' +
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') +
    ' |';
  return [
    '\nµs/request over bare (difference of medians, p: paired median)' +
      (pieces.length ? '; each piece: ours − ours without it, paired median' : ''),
    fmt(header),
    '|' +
      widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') +
      '|',
    ...body.map(fmt),
  ].join('\n');
}

function table(summary) {
  const lines = [];
  const header = [
    'variant',
    'req/s',
    'p50 ms',
    'p99 ms',
    'CPU µs/req',
    'user + sys',
    'over bare µs/req',
    'user over bare',
    'paired median (range)',
    'others / steal %',
  ];
  for (const [adapter, routes] of Object.entries(summary)) {
    for (const [route, byCount] of Object.entries(routes)) {
      for (const [connections, rows] of Object.entries(byCount)) {
        const body = Object.entries(rows).map(([variant, row]) => [
          variant,
          Math.round(row.reqPerSec).toString(),
          String(row.latencyP50Ms),
          String(row.latencyP99Ms),
          row.cpuUsPerRequest.toFixed(1),
          `${row.userUsPerRequest.toFixed(1)} + ${row.systemUsPerRequest.toFixed(1)}`,
          variant === 'bare'
            ? '—'
            : `${row.overheadUsPerRequest >= 0 ? '+' : ''}${row.overheadUsPerRequest.toFixed(1)} (${row.overheadPercent >= 0 ? '+' : ''}${row.overheadPercent.toFixed(0)}%)`,
          variant === 'bare'
            ? '—'
            : `${row.userOverheadUsPerRequest >= 0 ? '+' : ''}${row.userOverheadUsPerRequest.toFixed(1)}`,
          variant === 'bare'
            ? '—'
            : `${row.pairedOverheadMedianUs.toFixed(1)} (${row.pairedOverheadRangeUs.map((v) => v.toFixed(1)).join(' … ')})`,
          row.foreignCpuPercentMedian === undefined
            ? '?'
            : `${row.foreignCpuPercentMedian.toFixed(0)} / ${row.stealPercentMedian.toFixed(0)}`,
        ]);
        const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
        const fmt = (cells) =>
          '| ' +
          cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') +
          ' |';
        lines.push(`\n${adapter} ${ROUTES[route].method} ${route}, ${connections} connections`);
        lines.push(fmt(header));
        lines.push(
          '|' +
            widths
              .map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':'))
              .join('|') +
            '|',
        );
        for (const row of body) lines.push(fmt(row));
      }
    }
  }
  return lines.join('\n');
}

// --- Chart: server CPU µs per request, one group of bars per adapter, route and connections.
function chart(summary) {
  const colours = {
    bare: '#7f8c8d',
    als: '#c9d1d3',
    context: '#95a5a6',
    'context+logging': '#bdc3c7',
    'hand-wired': '#e67e22',
    ours: '#2980b9',
    baseline: '#8e44ad',
  };
  const groups = Object.entries(summary).flatMap(([adapter, routes]) =>
    Object.entries(routes).flatMap(([route, byCount]) =>
      Object.entries(byCount).map(([connections, rows]) => ({
        label: `${adapter} ${route} c${connections}`,
        rows,
      })),
    ),
  );
  const variants = settings.variants;
  const max = Math.max(
    ...groups.flatMap((g) => Object.values(g.rows).map((r) => r.cpuUsPerRequest)),
  );
  const bar = 28;
  const gap = 24;
  const groupWidth = variants.length * bar + gap;
  const height = 320;
  const top = 40;
  const plot = height - top - 60;
  const width = 70 + groups.length * groupWidth + 20;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<text x="10" y="20" font-size="14">Server CPU per request (µs, lower is better), ${settings.slices ? `median of ${settings.slices} slices` : `median of ${settings.repeats} round(s)`}</text>`,
    `<line x1="60" y1="${top + plot}" x2="${width - 10}" y2="${top + plot}" stroke="#333"/>`,
  ];
  groups.forEach((group, g) => {
    const x0 = 70 + g * groupWidth;
    variants.forEach((variant, v) => {
      const row = group.rows[variant];
      if (!row) return;
      const h = (row.cpuUsPerRequest / max) * plot;
      const x = x0 + v * bar;
      parts.push(
        `<rect x="${x}" y="${(top + plot - h).toFixed(1)}" width="${bar - 4}" height="${h.toFixed(1)}" fill="${colours[variant] ?? '#7fb3d5'}"/>`,
        `<text x="${x + (bar - 4) / 2}" y="${(top + plot - h - 4).toFixed(1)}" text-anchor="middle">${row.cpuUsPerRequest.toFixed(0)}</text>`,
      );
    });
    parts.push(
      `<text x="${x0 + (variants.length * bar) / 2}" y="${top + plot + 18}" text-anchor="middle">${group.label}</text>`,
    );
  });
  variants.forEach((variant, v) => {
    const x = 70 + v * 120;
    parts.push(
      `<rect x="${x}" y="${height - 22}" width="12" height="12" fill="${colours[variant] ?? '#7fb3d5'}"/>`,
      `<text x="${x + 16}" y="${height - 12}">${variant}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

// --- Run: A B C A B C ... (every variant of a round back to back).
// --chart-from=RESULTS.json: draw that run's chart again (after a change to the
// chart), beside it, without measuring.
if (args.has('chart-from')) {
  const from = resolve(String(args.get('chart-from')));
  const saved = JSON.parse(readFileSync(from, 'utf8'));
  Object.assign(settings, saved.settings);
  const svg = from.replace(/\.json$/, '.svg');
  writeFileSync(svg, chart(byConnections(saved.summary, saved.settings.connections)));
  console.log(`chart: ${svg}`);
  process.exit(0);
}

const started = new Date();
const library = libraryVersion();
const baselineLibrary = settings.baseline && libraryVersion(settings.baseline);
console.log(
  `http-overhead: ${settings.adapters.join('+')} × ${settings.variants.join(', ')} on ${settings.routes.join(', ')}; ` +
    `${settings.connections.join(' and ')} connections, warm-up ${settings.warmupSeconds} s, measured ${settings.durationSeconds} s, ` +
    (settings.slices
      ? `${settings.slices} slices (servers kept up)`
      : `${settings.repeats} repeat(s)`),
);
console.log(
  `machine: ${cores} cores, ${cpuModel}, servers on node ${serverNodeVersion}, ${pinned ? 'server on core 0, autocannon on core 1' : 'not pinned'}`,
);
if (cpuProf) {
  mkdirSync(cpuProf, { recursive: true });
  settings.cpuProfileDir = cpuProf;
  console.log(`CPU profiles: ${cpuProf} (profiled run: CPU figures are inflated by the profiler)`);
}

const runs = [];
if (settings.slices) {
  for (const adapter of settings.adapters) runs.push(...(await measureSliced(adapter)));
} else {
  for (let round = 1; round <= settings.repeats; round++) {
    for (const adapter of settings.adapters) {
      for (const variant of settings.variants) {
        runs.push(...(await measure(adapter, variant, round)));
      }
    }
  }
}

const summary = summarise(runs);
console.log(table(summary));
console.log(piecesTable(summary));
mkdirSync(dirname(out), { recursive: true });
let json = JSON.stringify(
  {
    bench: 'http-overhead',
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    machine,
    library,
    ...(baselineLibrary && { baselineLibrary }),
    settings,
    summary,
    runs,
  },
  null,
  2,
);
try {
  // Written as the repo's `prettier --check .` expects it.
  const prettier = await import('prettier');
  json = await prettier.format(json, {
    ...(await prettier.resolveConfig(out)),
    filepath: out,
  });
} catch {
  json += '\n';
}
writeFileSync(out, json);
const svg = out.replace(/\.json$/, '.svg');
writeFileSync(svg, chart(summary));
for (const [adapter, routes] of Object.entries(summary)) {
  for (const [route, byCount] of Object.entries(routes)) {
    for (const [connections, rows] of Object.entries(byCount)) {
      const { ours } = rows;
      if (!ours?.throughputOfBare) continue;
      console.log(
        `${adapter} ${route} c${connections}: ours keeps ${(ours.throughputOfBare * 100).toFixed(0)}% of bare throughput, ` +
          `adds ${ours.overheadUsPerRequest.toFixed(1)} µs/req (${ours.userOverheadUsPerRequest.toFixed(1)} of it user CPU)` +
          (ours.overheadOfHandWired === undefined
            ? ''
            : `, ${(1 / ours.overheadOfHandWired).toFixed(1)}× less than hand-wired ` +
              `(${(1 / ours.userOverheadOfHandWired).toFixed(1)}× in user CPU), ` +
              `${(ours.throughputOfHandWired * 100).toFixed(0)}% of hand-wired throughput`) +
          `; p99 ${ours.p99OfBare.toFixed(2)}× bare` +
          (ours.overBaselineUs === undefined
            ? ''
            : `; against the baseline ${ours.overBaselineUs >= 0 ? '+' : ''}${ours.overBaselineUs.toFixed(1)} µs/req ` +
              `(paired median ${ours.pairedOverBaselineMedianUs.toFixed(1)})`),
      );
    }
  }
}
console.log(`\nresults: ${out}\nchart: ${svg}`);
