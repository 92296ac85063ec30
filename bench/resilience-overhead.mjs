// The overhead of a call through a resilience policy against a bare call, and
// of the outbound HTTP client against a bare undici Pool. A benchmark, not a
// test: it measures and reports, it asserts nothing.
//
//   npm run build:lib && node bench/resilience-overhead.mjs      # ~30 s
//   node bench/resilience-overhead.mjs --calls=20000 --requests=500 --repeats=5
//
// Plain Node on the built library. Each variant runs `--repeats` times,
// interleaved (bare, policy, …, bare, policy, …), and the median is reported:
// - in-process: an async function that resolves at once, called `--calls`
//   times in sequence, bare and under policies with more and more parts
//   (metrics recorded as in an app);
// - HTTP: `--requests` sequential GETs to a loopback server answering 200,
//   through a bare undici Pool and through HttpClient (correlation header,
//   metrics) without and with the full policy.
// - the same in-process call through cockatiel's own policies composed with
//   wrap() in the same order and with our defaults (`cockatiel:*`, no metrics):
//   what our CallScope and CircuitBreaker are measured against.
// Writes bench/results/resilience-overhead.json (or --out=PATH).
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  HttpClient,
  MetricsRegistry,
  RequestContext,
  ResiliencePolicies,
} from 'nestjs-production-readiness';
import {
  bulkhead,
  circuitBreaker,
  CountBreaker,
  ExponentialBackoff,
  handleAll,
  retry,
  timeout,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import { Pool } from 'undici';
import { cliArgs } from './cli-args.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = cliArgs();
const calls = Number(args.get('calls') ?? 100_000);
const requests = Number(args.get('requests') ?? 2_000);
const repeats = Number(args.get('repeats') ?? 7);
const out = resolve(String(args.get('out') ?? `${here}/results/resilience-overhead.json`));

const metrics = new MetricsRegistry({ SERVICE_NAME: 'bench', METRICS_ENABLED: true }, {});
const off = { retry: false, circuitBreaker: false, bulkhead: false };
// ResiliencePolicies outside Nest: DiscoveryService only serves @Resilient, unused here.
const policies = new ResiliencePolicies(
  {
    policies: {
      timeouts: off,
      'timeouts+retry': { ...off, retry: {} },
      'timeouts+retry+breaker': { ...off, retry: {}, circuitBreaker: {} },
      full: {},
    },
  },
  undefined,
  metrics,
  undefined,
);

// cockatiel's public API, our defaults: 10 s total and 3 s attempt timeouts,
// 3 attempts, a breaker over the last 20 calls opening at 50% after 10.
const cockatielTimeouts = () => [
  timeout(10_000, TimeoutStrategy.Cooperative),
  timeout(3_000, TimeoutStrategy.Cooperative),
];
const cockatielRetry = () =>
  retry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff({ initialDelay: 100 }) });
const cockatielBreaker = () =>
  circuitBreaker(handleAll, {
    halfOpenAfter: 10_000,
    breaker: new CountBreaker({ threshold: 0.5, size: 20, minimumNumberOfCalls: 10 }),
  });
const [total, attempt] = cockatielTimeouts();
const cockatiel = {
  timeouts: wrap(total, attempt),
  'timeouts+retry': wrap(cockatielTimeouts()[0], cockatielRetry(), cockatielTimeouts()[1]),
  'timeouts+retry+breaker': wrap(
    cockatielTimeouts()[0],
    cockatielRetry(),
    cockatielBreaker(),
    cockatielTimeouts()[1],
  ),
  full: wrap(
    cockatielTimeouts()[0],
    cockatielRetry(),
    cockatielBreaker(),
    bulkhead(20, 40),
    cockatielTimeouts()[1],
  ),
};

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

async function timeLoop(count, once) {
  const startedAt = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await once();
  return Number(process.hrtime.bigint() - startedAt) / count;
}

async function measure(variants, count, unit) {
  const runs = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  // Warm-up: let V8 optimise every path before anything is counted.
  for (const run of Object.values(variants)) await timeLoop(Math.ceil(count / 5), run);
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (const [name, run] of Object.entries(variants)) runs[name].push(await timeLoop(count, run));
  }
  const base = median(runs.bare);
  // Times are taken in ns; HTTP ones are reported in µs.
  const round = (ns) => Math.round((ns / (unit === 'us' ? 1_000 : 1)) * 100) / 100;
  return Object.fromEntries(
    Object.entries(runs).map(([name, values]) => [
      name,
      {
        [`median_${unit}_per_call`]: round(median(values)),
        [`overhead_${unit}_per_call`]: round(median(values) - base),
        runs: values.map(round),
      },
    ]),
  );
}

const work = async () => 42;
const inProcess = await measure(
  {
    bare: () => work(),
    ...Object.fromEntries(
      ['timeouts', 'timeouts+retry', 'timeouts+retry+breaker', 'full'].map((name) => [
        `policy:${name}`,
        () => policies.execute(name, work, { idempotent: true }),
      ]),
    ),
    ...Object.fromEntries(
      Object.entries(cockatiel).map(([name, policy]) => [
        `cockatiel:${name}`,
        () => policy.execute(work),
      ]),
    ),
  },
  calls,
  'ns',
);

const server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end('{"ok":true}');
});
server.keepAliveTimeout = 10_000;
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const origin = `http://127.0.0.1:${server.address().port}`;
const pool = new Pool(origin, { connections: 10, keepAliveTimeout: 4_000 });
const client = new HttpClient({}, policies, metrics);
const http = await RequestContext.run({ correlationId: 'bench-correlation-id' }, () =>
  measure(
    {
      bare: async () => {
        const response = await pool.request({ path: '/hello', method: 'GET' });
        await response.body.arrayBuffer();
      },
      'client:no-policy': () => client.get(`${origin}/hello`),
      'client:full-policy': () => client.get(`${origin}/hello`, { policy: 'full' }),
    },
    requests,
    'us',
  ),
);
await pool.close();
await client.onApplicationShutdown();
policies.onApplicationShutdown();
server.close();

const report = {
  date: new Date().toISOString(),
  node: process.version,
  calls,
  requests,
  repeats,
  method:
    'median of repeats; in-process: sequential awaited calls of an async function that resolves at once; HTTP: sequential keep-alive GETs to a loopback server',
  inProcess,
  http,
};
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(
  JSON.stringify({ inProcess, http }, (key, value) => (key === 'runs' ? undefined : value), 2),
);
console.log(`Written to ${out}`);
