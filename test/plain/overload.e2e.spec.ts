import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Body, Controller, Get, Module, Post, type INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  LOGGING_OPTIONS,
  NeverShed,
  OverloadProtection,
  ProductionReadinessModule,
  type OverloadOptions,
} from 'nestjs-production-readiness';
import { afterEach, describe, expect, it } from 'vitest';
import { LogCapture } from '../support/log-capture.js';
import { withEnv } from '../support/essay-service.js';
import { rawConnection } from '../support/raw-http.js';
import { RequestGate } from '../support/request-gate.js';
import { waitFor } from '../support/wait-for.js';
import { PLAIN_ENV } from './plain-env.js';

const gate = new RequestGate();
/** How many times the /work handlers ran. */
let handled = 0;

@Controller()
class LoadController {
  @Get('slow')
  async slow(): Promise<{ ok: true }> {
    await gate.pass();
    return { ok: true };
  }

  @Post('work')
  work(@Body() body: { n?: number }): { n?: number } {
    handled += 1;
    return { n: body.n };
  }

  @Get('work')
  cheap(): { ok: true } {
    handled += 1;
    return { ok: true };
  }

  @NeverShed()
  @Get('admin/status')
  adminStatus(): { admin: true } {
    return { admin: true };
  }

  @Get('status')
  status(): { status: 'ok' } {
    return { status: 'ok' };
  }
}

type Adapter = 'express' | 'fastify';

// A fixed limit of 2 (minLimit = maxLimit): two requests held at the gate fill it.
const FIXED_LIMIT: OverloadOptions = { minLimit: 2, maxLimit: 2, sampleIntervalMs: 50 };

async function startApp(
  adapter: Adapter,
  overload: OverloadOptions = FIXED_LIMIT,
  env: Record<string, string | undefined> = {},
): Promise<{ app: INestApplication; base: string; logs: LogCapture }> {
  @Module({
    imports: [
      ProductionReadinessModule.forRoot({
        overload: { ...overload, neverShedPaths: ['/status'] },
      }),
    ],
    controllers: [LoadController],
  })
  class OverloadAppModule {}

  const logs = new LogCapture();
  const app = await withEnv({ ...PLAIN_ENV, ...env }, async () => {
    const moduleFixture = await Test.createTestingModule({ imports: [OverloadAppModule] })
      .overrideProvider(LOGGING_OPTIONS)
      .useValue({ destination: logs.destination })
      .compile();
    const created =
      adapter === 'fastify'
        ? moduleFixture.createNestApplication(new FastifyAdapter())
        : moduleFixture.createNestApplication();
    await created.listen(0, '127.0.0.1');
    return created;
  });
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  return { app, base: `http://127.0.0.1:${port}`, logs };
}

async function holdTwo(base: string): Promise<Promise<Response>[]> {
  const held = [fetch(`${base}/slow`), fetch(`${base}/slow`)];
  await waitFor(() => (gate.entered >= 2 ? true : undefined), 5_000, {
    description: 'two requests held at the gate',
  });
  return held;
}

for (const adapter of ['express', 'fastify'] as const) {
  describe(`overload protection in a user's app, on ${adapter}`, () => {
    let app: INestApplication | undefined;

    afterEach(async () => {
      gate.open();
      await app?.close();
      app = undefined;
      gate.reset();
      handled = 0;
    });

    it('sheds a request over the limit with 503 OVERLOADED problem+json, Retry-After and its correlation id, before its handler or body', async () => {
      const started = await startApp(adapter);
      app = started.app;
      const held = await holdTwo(started.base);

      const shed = await fetch(`${started.base}/work`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-correlation-id': 'shed-1' },
        body: JSON.stringify({ n: 1 }),
      });
      expect(shed.status).toBe(503);
      expect(shed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(shed.headers.get('retry-after')).toBe('1');
      expect(shed.headers.get('x-correlation-id')).toBe('shed-1');
      expect(await shed.json()).toMatchObject({
        status: 503,
        code: 'OVERLOADED',
        correlationId: 'shed-1',
      });
      expect(handled).toBe(0);

      gate.open();
      for (const response of await Promise.all(held)) expect(response.status).toBe(200);
      const served = await fetch(`${started.base}/work`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ n: 2 }),
      });
      expect(served.status).toBe(201);
      expect(await served.json()).toEqual({ n: 2 });
      expect(handled).toBe(1);
    });

    it('never sheds the probes, /metrics, an @NeverShed() route or a neverShedPaths path', async () => {
      const started = await startApp(adapter);
      app = started.app;
      const held = await holdTwo(started.base);

      for (const path of ['/livez', '/readyz', '/healthz', '/startupz', '/metrics']) {
        const response = await fetch(`${started.base}${path}`);
        expect({ path, status: response.status }).toEqual({ path, status: 200 });
      }
      const admin = await fetch(`${started.base}/admin/status`);
      expect(admin.status).toBe(200);
      expect(await admin.json()).toEqual({ admin: true });
      expect((await fetch(`${started.base}/status`)).status).toBe(200);
      // The limit is still full: an ordinary route is shed meanwhile.
      expect((await fetch(`${started.base}/work`)).status).toBe(503);
      gate.open();
      await Promise.all(held);
    });

    it('keeps the keep-alive connection of a shed request with a small body usable', async () => {
      const started = await startApp(adapter);
      app = started.app;
      const held = await holdTwo(started.base);
      const { port } = new URL(started.base);
      const socket = await rawConnection(Number(port));
      const responses: string[] = [];
      socket.on('data', (chunk: Buffer) => responses.push(chunk.toString('latin1')));
      const body = JSON.stringify({ n: 3 });
      socket.write(
        `POST /work HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      await waitFor(() => (responses.join('').includes('OVERLOADED') ? true : undefined), 5_000, {
        description: 'the 503 on the raw socket',
      });
      expect(responses.join('')).toMatch(/^HTTP\/1\.1 503/);
      expect(responses.join('')).not.toMatch(/connection: close/i);

      gate.open();
      await Promise.all(held);
      socket.write('GET /work HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor(() => (/HTTP\/1\.1 200/.test(responses.join('')) ? true : undefined), 5_000, {
        description: 'the next request on the same connection answered 200',
      });
      socket.destroy();
    });

    it('logs one "Shedding load" warning with the count, not a line per shed request, and counts them in /metrics', async () => {
      const started = await startApp(adapter);
      app = started.app;
      const held = await holdTwo(started.base);
      for (let index = 0; index < 5; index++) {
        expect((await fetch(`${started.base}/work`)).status).toBe(503);
      }
      const warning = await started.logs.waitForLine((line) => line.msg === 'Shedding load');
      expect(warning).toMatchObject({ level: 'warn', shed: 5, limit: 2 });
      const perRequest = started.logs.lines.filter(
        (line) =>
          line.level !== 'info' && line.msg !== 'Shedding load' && line.code === 'OVERLOADED',
      );
      expect(perRequest).toEqual([]);
      // Each shed request still has its access line.
      expect(
        started.logs.lines.filter((line) => line.status === 503 && line.path === '/work'),
      ).toHaveLength(5);

      const exposition = await (await fetch(`${started.base}/metrics`)).text();
      expect(exposition).toMatch(/^http_requests_shed_total\{[^}]*\} 5$/m);
      expect(exposition).toMatch(/^overload_concurrency_limit\{[^}]*\} 2$/m);
      expect(exposition).toMatch(/^overload_requests_in_flight\{[^}]*\} 2$/m);
      expect(app.get(OverloadProtection).isOverloaded).toBe(true);
      gate.open();
      await Promise.all(held);
    });

    it('sheds nothing with OVERLOAD_PROTECTION_ENABLED=false', async () => {
      const started = await startApp(adapter, FIXED_LIMIT, {
        OVERLOAD_PROTECTION_ENABLED: 'false',
      });
      app = started.app;
      const held = await holdTwo(started.base);
      const third = fetch(`${started.base}/slow`);
      await waitFor(() => (gate.entered >= 3 ? true : undefined), 5_000, {
        description: 'a third request at the gate',
      });
      gate.open();
      for (const response of await Promise.all([...held, third])) {
        expect(response.status).toBe(200);
      }
      expect(await (await fetch(`${started.base}/metrics`)).text()).not.toMatch(
        /http_requests_shed_total/,
      );
    });

    it('lowers an adaptive limit when latency rises, and serves again once it falls', async () => {
      const started = await startApp(adapter, {
        initialLimit: 64,
        minLimit: 2,
        sampleIntervalMs: 50,
      });
      app = started.app;
      const protection = app.get(OverloadProtection);
      // Fast requests first: the latency baseline.
      for (let index = 0; index < 20; index++) await fetch(`${started.base}/work`);
      await new Promise((resolve) => setTimeout(resolve, 120));
      // Then slow ones: held 300 ms each, eight at a time.
      for (let round = 0; round < 4; round++) {
        const held = Array.from({ length: 8 }, () => fetch(`${started.base}/slow`));
        await new Promise((resolve) => setTimeout(resolve, 300));
        gate.open();
        await Promise.all(held);
      }
      expect(protection.limit).toBeLessThan(64);
      // The limit never goes under minLimit, so requests are served again.
      expect((await fetch(`${started.base}/work`)).status).toBe(200);
    });
  });
}

describe('overload options', () => {
  it('refuses an invalid option at startup, naming it', async () => {
    await expect(startApp('express', { minLimit: 10, maxLimit: 5 })).rejects.toThrow(
      /overload\.minLimit \(10\) must not be above overload\.maxLimit \(5\)/,
    );
    await expect(startApp('express', { sampleIntervalMs: 0 })).rejects.toThrow(
      /overload\.sampleIntervalMs must be a positive integer/,
    );
  });

  it('refuses OVERLOAD_PROTECTION_ENABLED that is not a boolean', async () => {
    await expect(
      startApp('express', FIXED_LIMIT, { OVERLOAD_PROTECTION_ENABLED: 'sometimes' }),
    ).rejects.toThrow(/OVERLOAD_PROTECTION_ENABLED/);
  });
});
