// One variant of the context-overhead bench, run as a child process of
// context-overhead.mjs (plain node, built library). Not a test: no assertions.
//
//   node bench/context-overhead-server.mjs <express|fastify> <bare|context|context+logging> [logFile]
//
// Prints nothing on stdout; talks to the parent over IPC:
//   -> { type: 'ready', port }
//   <- { type: 'start', profile? } -> { type: 'started' }  (opens the measured window;
//                                    with profile, a CPU profile of the window is written there)
//   <- { type: 'stop' }   -> { type: 'stopped', cpuUserUs, cpuSystemUs, requests, elapsedMs, pendingLogBytes }
//   <- { type: 'exit' }   (closes the app and exits)
import 'reflect-metadata';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { setTimeout } from 'node:timers/promises';
import { Controller, Get, Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  createLogDestination,
  installHttpRequestContext,
  ServiceLogger,
} from 'nestjs-production-readiness';

const [adapterName, variant, logFile = '/dev/null'] = process.argv.slice(2);
if (
  !['express', 'fastify'].includes(adapterName) ||
  !['bare', 'context', 'context+logging'].includes(variant)
) {
  console.error(
    'usage: context-overhead-server.mjs <express|fastify> <bare|context|context+logging> [logFile]',
  );
  process.exit(2);
}
if (typeof process.send !== 'function') {
  console.error(
    'context-overhead-server.mjs must be started with an IPC channel (by context-overhead.mjs)',
  );
  process.exit(2);
}

// --- The app: one controller, two routes, written with Nest's decorators as functions.
const benchLogger = new Logger('Bench');

class BenchController {
  hello() {
    return { message: 'hello', ok: true };
  }

  log() {
    // Goes nowhere with `logger: false`; through ServiceLogger in the logging variant.
    benchLogger.log('hello');
    return { message: 'logged', ok: true };
  }
}
Controller()(BenchController);
for (const [name, path] of [
  ['hello', '/hello'],
  ['log', '/log'],
]) {
  Get(path)(
    BenchController.prototype,
    name,
    Object.getOwnPropertyDescriptor(BenchController.prototype, name),
  );
}

class AppModule {}
Module({ controllers: [BenchController] })(AppModule);

// --- Bootstrap the variant.
const app =
  adapterName === 'fastify'
    ? await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false })
    : await NestFactory.create(AppModule, { logger: false });

let serviceLogger;
let destination;
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
  installHttpRequestContext(app, { onFinish: (finished) => serviceLogger.logRequest(finished) });
} else if (variant === 'context') {
  installHttpRequestContext(app);
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
      // (sonic-boom's own counter) are written before the CPU is read, so their
      // cost is charged to the window, not left for later.
      const pendingLogBytes = destination?._len ?? 0;
      if (pendingLogBytes > 0) {
        await Promise.race([once(destination, 'drain'), setTimeout(2000)]);
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
