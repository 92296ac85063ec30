// One variant of the HTTP overhead bench, run as a child process of
// http-overhead.mjs (plain node, built library). Not a test: no assertions.
//
//   node bench/http-overhead-server.mjs <express|fastify> <variant> [logFile]
//
// Variants, all serving GET /hello (small JSON) and POST /validated (a DTO
// through a ValidationPipe):
//   bare             the Nest app with nothing added (the limit);
//   als              + an AsyncLocalStorage entered per request and nothing else: the
//                    floor any request context pays on this Node.js (async_hooks on Node 20);
//   context          + the library's request context;
//   context+logging  + the library's logger and access log;
//   hand-wired       what a user wires by hand: nestjs-pino (pino-http) to the
//                    log file, @willsoto/nestjs-prometheus with an interceptor
//                    histogram, @nestjs/terminus, helmet, a global
//                    ValidationPipe and an API-key guard;
//   ours             ProductionReadinessModule.forRoot() in a plain NestFactory.create() app:
//                    logging to the file, metrics, correlation, errors, API key
//                    (sha256-stored), CORS allowlist, security headers, health.
//
// Prints nothing on stdout; talks to the parent over IPC:
//   -> { type: 'ready', port }
//   <- { type: 'start', profile? } -> { type: 'started' }  (opens the measured window;
//                                    with profile, a CPU profile of the window is written there)
//   <- { type: 'stop' }   -> { type: 'stopped', cpuUserUs, cpuSystemUs, requests, elapsedMs, pendingLogBytes }
//   <- { type: 'exit' }   (closes the app and exits)
import 'reflect-metadata';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { setTimeout } from 'node:timers/promises';
import {
  Body,
  Controller,
  Get,
  Injectable,
  Logger,
  Module,
  Post,
  RequestMethod,
  UnauthorizedException,
  ValidationPipe,
} from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { InjectMetric, makeHistogramProvider, PrometheusModule } from '@willsoto/nestjs-prometheus';
import { IsInt, IsOptional, IsString, MaxLength, Min } from 'class-validator';
import helmet from 'helmet';
import { LoggerModule } from 'nestjs-pino';
import {
  BaseServiceConfig,
  createLogDestination,
  HttpPipelineModule,
  ProductionReadinessModule,
  ServiceLogger,
} from 'nestjs-production-readiness';
// Internal pieces, measured alone: from the build, not the package's public entry.
import { HttpRequestPipeline } from '../libs/production-readiness/dist/http/http-request-pipeline.js';
import pino from 'pino';
import { tap } from 'rxjs';

export const VARIANTS = ['bare', 'als', 'context', 'context+logging', 'hand-wired', 'ours'];
/** The key every load request sends (X-API-Key); the variants that check keys accept it. */
export const BENCH_API_KEY = 'bench-key-0123456789abcdef';

const [adapterName, variant, logFile = '/dev/null'] = process.argv.slice(2);
// Pieces of `ours` left out, to measure each one's cost (http-overhead.mjs --ours-without):
// access-log, metrics, api-key, cors, headers.
const without = new Set((process.env.BENCH_OURS_WITHOUT ?? '').split(',').filter(Boolean));
if (!['express', 'fastify'].includes(adapterName) || !VARIANTS.includes(variant)) {
  console.error(
    `usage: http-overhead-server.mjs <express|fastify> <${VARIANTS.join('|')}> [logFile]`,
  );
  process.exit(2);
}
if (typeof process.send !== 'function') {
  console.error(
    'http-overhead-server.mjs must be started with an IPC channel (by http-overhead.mjs)',
  );
  process.exit(2);
}

// --- The app: one controller, written with Nest's decorators as functions.
const benchLogger = new Logger('Bench');

class EssayInput {}
IsString()(EssayInput.prototype, 'title');
MaxLength(200)(EssayInput.prototype, 'title');
IsString()(EssayInput.prototype, 'text');
IsOptional()(EssayInput.prototype, 'words');
IsInt()(EssayInput.prototype, 'words');
Min(0)(EssayInput.prototype, 'words');

class BenchController {
  hello() {
    return { message: 'hello', ok: true };
  }

  log() {
    // Goes nowhere with `logger: false`; through the variant's logger otherwise.
    benchLogger.log('hello');
    return { message: 'logged', ok: true };
  }

  validated(input) {
    return { title: input.title, length: input.text.length };
  }
}
const controller = BenchController.prototype;
const method = (name) => Object.getOwnPropertyDescriptor(controller, name);
Get('/hello')(controller, 'hello', method('hello'));
Get('/log')(controller, 'log', method('log'));
Post('/validated')(controller, 'validated', method('validated'));
Body()(controller, 'validated', 0);
// What TypeScript's emitDecoratorMetadata would write: the ValidationPipe needs the DTO class.
Reflect.defineMetadata('design:paramtypes', [EssayInput], controller, 'validated');
Controller()(BenchController);

// --- hand-wired: the anchor stack, as a user writes it.
class ApiKeyGuard {
  canActivate(context) {
    const request = context.switchToHttp().getRequest();
    if (request.headers['x-api-key'] !== BENCH_API_KEY) throw new UnauthorizedException();
    return true;
  }
}
Injectable()(ApiKeyGuard);

class MetricsInterceptor {
  constructor(histogram) {
    this.histogram = histogram;
  }

  intercept(context, next) {
    const http = context.switchToHttp();
    const request = http.getRequest();
    const end = this.histogram.startTimer();
    return next.handle().pipe(
      tap({
        finalize: () =>
          end({
            method: request.method,
            route: request.route?.path ?? request.routeOptions?.url ?? 'unknown',
            status_code: http.getResponse().statusCode,
          }),
      }),
    );
  }
}
InjectMetric('http_request_duration_seconds')(MetricsInterceptor, undefined, 0);
Injectable()(MetricsInterceptor);

class HealthController {
  constructor(health) {
    this.health = health;
  }

  check() {
    return this.health.check([]);
  }
}
Get()(
  HealthController.prototype,
  'check',
  Object.getOwnPropertyDescriptor(HealthController.prototype, 'check'),
);
HealthCheck()(
  HealthController.prototype,
  'check',
  Object.getOwnPropertyDescriptor(HealthController.prototype, 'check'),
);
Reflect.defineMetadata('design:paramtypes', [HealthCheckService], HealthController);
Controller('health')(HealthController);

// --- ours: the base config, which requires nothing the bench lacks.
class BenchConfig extends BaseServiceConfig {}

function moduleOf(variant) {
  const module = class AppModule {};
  if (variant === 'hand-wired') {
    Module({
      imports: [
        LoggerModule.forRoot({
          pinoHttp: { stream: pino.destination({ dest: logFile, sync: false }) },
          // nestjs-pino's default route ('{/*splat}') matches nothing on Fastify
          // under Nest 12 (no request is logged); a user who notices writes this.
          forRoutes: [{ path: '*path', method: RequestMethod.ALL }],
        }),
        PrometheusModule.register(),
        TerminusModule,
      ],
      controllers: [BenchController, HealthController],
      providers: [
        makeHistogramProvider({
          name: 'http_request_duration_seconds',
          help: 'Request duration.',
          labelNames: ['method', 'route', 'status_code'],
        }),
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_INTERCEPTOR, useClass: MetricsInterceptor },
      ],
    })(module);
  } else if (variant === 'ours') {
    Module({
      imports: [
        ProductionReadinessModule.forRoot({
          config: BenchConfig,
          logging: { destination, accessLog: !without.has('access-log') },
          metrics: { httpMetrics: !without.has('metrics') },
          security: {
            ...(without.has('cors') && { cors: false }),
            ...(without.has('headers') && { headers: false }),
          },
        }),
      ],
      controllers: [BenchController],
    })(module);
  } else if (variant === 'context' || variant === 'context+logging') {
    // The library's HTTP entry alone: the correlation id and request context.
    Module({ imports: [HttpPipelineModule], controllers: [BenchController] })(module);
  } else {
    Module({ controllers: [BenchController] })(module);
  }
  return module;
}

// --- Bootstrap the variant.
let serviceLogger;
let destination;
let app;
if (variant === 'ours') {
  destination = createLogDestination(logFile);
  Object.assign(process.env, {
    SERVICE_NAME: 'bench',
    SERVICE_VERSION: '0.0.0',
    ENVIRONMENT: 'bench',
    PORT: '3000', // required by the config; the bench listens on a free port
    HOST: '127.0.0.1',
    API_KEYS: without.has('api-key')
      ? ''
      : `sha256:${createHash('sha256').update(BENCH_API_KEY).digest('hex')}`,
    CORS_ORIGINS: 'https://app.example',
    METRICS_ENABLED: 'true',
  });
  // As a user's main.ts makes it: the module installs everything itself.
  app =
    adapterName === 'fastify'
      ? await NestFactory.create(moduleOf('ours'), new FastifyAdapter(), { bufferLogs: true })
      : await NestFactory.create(moduleOf('ours'), { bufferLogs: true });
} else {
  const appModule = moduleOf(variant);
  const options = variant === 'hand-wired' ? { bufferLogs: true } : { logger: false };
  app =
    adapterName === 'fastify'
      ? await NestFactory.create(appModule, new FastifyAdapter(), options)
      : await NestFactory.create(appModule, options);
  if (variant === 'hand-wired') {
    const { Logger: PinoLogger } = await import('nestjs-pino');
    app.useLogger(app.get(PinoLogger));
    app.useGlobalPipes(new ValidationPipe({ whitelist: true }));
    app.use(helmet());
  } else {
    // The bare app validates too: the POST route's cost is the same in every variant.
    app.useGlobalPipes(new ValidationPipe({ whitelist: true }));
  }
}
if (variant === 'context+logging') {
  // The library's own default destination (asynchronous, batched), at a file.
  destination = createLogDestination(logFile);
  serviceLogger = new ServiceLogger(
    {
      SERVICE_NAME: 'bench',
      SERVICE_VERSION: '0.0.0',
      ENVIRONMENT: 'bench',
      LOG_LEVEL: 'INFO',
      API_KEY_HEADER: 'x-api-key',
    },
    { destination },
  );
  app.useLogger(serviceLogger);
  app.get(HttpRequestPipeline).onFinish((finished) => serviceLogger.logRequest(finished));
} else if (variant === 'als') {
  // Before the routes (and, on Express, the body parsers), as the context is.
  const storage = new AsyncLocalStorage();
  const instance = app.getHttpAdapter().getInstance();
  if (adapterName === 'fastify') {
    instance.addHook('onRequest', (request, reply, done) => storage.run(request, done));
  } else {
    instance.use((request, response, next) => storage.run(request, next));
  }
}
if (app.getHttpAdapter().getType() === 'fastify') {
  await app.init();
}

// Requests received by the Node server (the same cheap listener in every variant).
// Off from responses sent by at most the connections in flight (10), of ~10^5.
let responses = 0;
app.getHttpServer().on('request', () => {
  responses += 1;
});

await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address();

// --- CPU profile of the measured window only (parent's --cpu-prof), through the inspector.
let session;
async function startProfile() {
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
}
async function stopProfile(path, requests, cpu) {
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  // Extra keys for bench/cpu-profile-top.mjs (µs per request); DevTools ignores them.
  profile.benchRequests = requests;
  profile.benchCpuUs = cpu.user + cpu.system;
  await writeFile(path, JSON.stringify(profile));
}

let window;
process.on('message', async (message) => {
  switch (message?.type) {
    case 'start':
      if (message.profile) await startProfile();
      window = {
        cpu: process.cpuUsage(),
        responses,
        at: performance.now(),
        profile: message.profile,
      };
      process.send({ type: 'started' });
      break;
    case 'stop': {
      // The lines of the window still buffered in the asynchronous destination
      // are written before the CPU is read, so their cost is charged to the
      // window, not left for later.
      const pendingLogBytes = destination?.pendingLength ?? 0;
      if (destination) {
        await Promise.race([
          new Promise((resolve) => destination.flush(resolve)),
          setTimeout(2000),
        ]);
      }
      const cpu = process.cpuUsage(window.cpu);
      const elapsedMs = performance.now() - window.at;
      const requests = responses - window.responses;
      if (window.profile) await stopProfile(window.profile, requests, cpu);
      process.send({
        type: 'stopped',
        cpuUserUs: cpu.user,
        cpuSystemUs: cpu.system,
        requests,
        elapsedMs,
        pendingLogBytes,
      });
      break;
    }
    case 'exit':
      serviceLogger?.flush();
      await app.close();
      process.disconnect();
      process.exit(0);
  }
});

process.send({ type: 'ready', port });
