// Micro-benchmarks of the pieces on every request's path, with tinybench:
// the request context, the correlation id, the HTTP metrics, the access line, the API-key
// check, the CORS decision and error mapping. A benchmark, not a test: it
// measures and reports, it asserts nothing.
//
//   npm run build:lib && node bench/micro.mjs            # ~15 s
//   node bench/micro.mjs --time=100                      # shorter (ms per task)
//
// Options: --time=MS (default 500 per task), --out=PATH (default bench/results/micro.json).
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BadRequestException } from '@nestjs/common';
import {
  ErrorCode,
  MetricsRegistry,
  RequestContext,
  ServiceError,
  ServiceLogger,
} from 'nestjs-production-readiness';
// Internal pieces, measured alone: from the build, not the package's public entry.
import {
  correlationIdFrom,
  isSafeCorrelationId,
} from '../libs/production-readiness/dist/context/correlation-id.js';
import { classifyError } from '../libs/production-readiness/dist/errors/classify-error.js';
import { HttpMetrics } from '../libs/production-readiness/dist/metrics/http-metrics.js';
import { ApiKeySet } from '../libs/production-readiness/dist/security/api-key-set.js';
import { CorsPolicy } from '../libs/production-readiness/dist/security/cors-policy.js';
import { SecurityPolicy } from '../libs/production-readiness/dist/security/security-policy.js';
import { Bench } from 'tinybench';
import { cliArgs } from './cli-args.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = cliArgs();
const time = Number(args.get('time') ?? 500);
const out = resolve(String(args.get('out') ?? `${here}/results/micro.json`));

const key = 'bench-key-0123456789abcdef';
const keys = ApiKeySet.parse([
  `sha256:${createHash('sha256').update(key).digest('hex')}`,
  'an-older-key-still-accepted-0001',
]);
const metrics = new MetricsRegistry({ SERVICE_NAME: 'bench', METRICS_ENABLED: true }, {});
const http = new HttpMetrics(metrics, {});
const finished = { method: 'GET', route: '/essays/:id', statusCode: 200, durationMs: 3.2 };
const cors = new CorsPolicy({
  origins: ['https://app.example'],
  credentials: false,
  maxAgeSeconds: 600,
  methods: ['GET', 'POST'],
  allowedHeaders: ['x-api-key', 'x-correlation-id', 'content-type'],
  exposedHeaders: ['x-correlation-id'],
});
const clientId = '3f2b8c1e-9d4a-4e8b-a1c2-7d6e5f4a3b2c';
const serviceError = new ServiceError(ErrorCode.NOT_FOUND, 'No essay with this id.');
const httpException = new BadRequestException('Bad input');

// The access line into a destination that keeps nothing: directly, and through
// pino (a destination asking for pino's metadata takes pino's path).
const loggerConfig = {
  SERVICE_NAME: 'bench',
  SERVICE_VERSION: '0.0.0',
  ENVIRONMENT: 'bench',
  LOG_LEVEL: 'INFO',
  API_KEY_HEADER: 'x-api-key',
};
const written = { chars: 0 };
const nullDestination = (viaPino) => ({
  write: (line) => {
    written.chars += line.length;
  },
  ...(viaPino && { [Symbol.for('pino.metadata')]: true }),
});
const accessLogger = new ServiceLogger(loggerConfig, { destination: nullDestination(false) });
const pinoAccessLogger = new ServiceLogger(loggerConfig, { destination: nullDestination(true) });
const finishedRequest = { ...finished, path: '/essays/42', correlationId: clientId };

// A response head as node:http writes it, to a socket that discards: the
// framework's own headers, and those plus what ours adds to every response
// (correlation id, the security headers, Vary: Origin). Node validates and
// serializes each header, whichever API sets it.
const discard = new Writable({
  write: (_chunk, _encoding, callback) => callback(),
  writev: (_chunks, callback) => callback(),
});
const securityHeaders = new SecurityPolicy({}, {}).writeHeaders;
function response() {
  const request = new IncomingMessage(new Socket());
  request.method = 'GET';
  request.httpVersionMajor = 1;
  request.httpVersionMinor = 1;
  const res = new ServerResponse(request);
  res.socket = discard;
  return res;
}
const replyBody = '{"message":"hello","ok":true}';
const frameworkHeaders = () => ({
  'content-type': 'application/json; charset=utf-8',
  'content-length': String(Buffer.byteLength(replyBody)),
});
// A new response before each call, outside the timed call.
let res;
const freshResponse = { beforeEach: () => void (res = response()) };

const bench = new Bench({ time, warmupTime: Math.min(200, time) });
bench
  .add('context: RequestContext.run + correlationId read', () =>
    RequestContext.run({ correlationId: clientId }, () => RequestContext.correlationId),
  )
  .add('correlation id: accept a client id', () =>
    correlationIdFrom({ 'x-correlation-id': clientId }),
  )
  .add('correlation id: mint one (no header)', () => correlationIdFrom({}))
  .add('correlation id: validate an unsafe one', () => isSafeCorrelationId('bad id\r\nx: y'))
  .add('metrics: record one finished request', () => http.record(finished))
  .add('access line: written directly', () => accessLogger.logRequest(finishedRequest))
  .add('access line: through pino (the former path)', () =>
    pinoAccessLogger.logRequest(finishedRequest),
  )
  .add('API key: match a valid key (sha256, constant time)', () => keys.match(key))
  .add('API key: refuse an invalid key', () => keys.match('not-the-key-0000000000000'))
  .add('errors: classify a ServiceError', () => classifyError(serviceError))
  .add('errors: classify an HttpException', () => classifyError(httpException))
  .add('CORS: decide an allowed origin', () =>
    cors.decide({ method: 'GET', origin: 'https://app.example', host: 'api.example' }),
  )
  .add('CORS: decide a request without Origin', () =>
    cors.decide({ method: 'GET', origin: undefined, host: 'api.example' }),
  )
  .add(
    'response head: the framework headers only',
    () => {
      res.writeHead(200, frameworkHeaders());
      res.end(replyBody);
    },
    freshResponse,
  )
  .add(
    'response head: + correlation id, security headers, Vary',
    () => {
      res.setHeader('x-correlation-id', clientId);
      securityHeaders(undefined, res);
      res.setHeader('vary', 'Origin');
      res.writeHead(200, frameworkHeaders());
      res.end(replyBody);
    },
    freshResponse,
  );

await bench.run();
const rows = bench.tasks.map((task) => ({
  task: task.name,
  nsPerOp: Math.round(task.result.latency.mean * 1e6),
  p99Ns: Math.round(task.result.latency.p99 * 1e6),
  opsPerSec: Math.round(task.result.throughput.mean),
  samples: task.result.latency.samplesCount ?? task.result.latency.samples?.length,
}));
console.table(rows);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ at: new Date().toISOString(), node: process.version, timePerTaskMs: time, rows }, null, 2)}\n`,
);
console.log(`results: ${out}`);
