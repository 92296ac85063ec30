import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';
import { startKeepAliveLoad } from '../support/keep-alive-load.js';
import { waitFor } from '../support/wait-for.js';
import { PLAIN_ENV } from './plain-env.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = join(here, '../..');
const DRAIN_DELAY_MS = 1_000;

let outDir: string;

interface PlainProcess {
  child: ChildProcess;
  baseUrl: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** The plain app built by tsc and started with node, as `nest build` and `node dist/main` would. */
async function startPlainApp(
  env: Record<string, string | undefined>,
  probePath = '/livez',
): Promise<PlainProcess> {
  const port = await freePort();
  let output = '';
  const merged: Record<string, string | undefined> = {
    ...process.env,
    KUBERNETES_SERVICE_HOST: undefined,
    ...PLAIN_ENV,
    ENVIRONMENT: 'production',
    SHUTDOWN_DRAIN_DELAY_MS: String(DRAIN_DELAY_MS),
    PORT: String(port),
    ...env,
  };
  const child = spawn(process.execPath, [join(outDir, 'main.js')], {
    cwd: repoRoot,
    env: Object.fromEntries(
      Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== undefined),
    ),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => (await fetch(`${baseUrl}${probePath}`).catch(() => undefined))?.ok || undefined,
    20_000,
    { description: 'the plain app to listen', intervalMs: 50 },
  );
  return { child, baseUrl, output: () => output, exited };
}

/** The JSON log line that starts the shutdown on `signal`. */
function shutdownLine(output: string, signal: string): Record<string, unknown> | undefined {
  const line = output
    .split('\n')
    .find((text) => text.includes(`"msg":"Shutting down (${signal})"`));
  return line === undefined ? undefined : (JSON.parse(line) as Record<string, unknown>);
}

describe('the plain app (its own main.ts, NestFactory.create + listen), real signals', () => {
  let running: PlainProcess | undefined;

  beforeAll(() => {
    // Inside the repo, so the build resolves nestjs-production-readiness as an app's would.
    outDir = mkdtempSync(join(here, '.build-'));
    execFileSync(
      process.execPath,
      [
        join(repoRoot, 'node_modules/typescript/bin/tsc'),
        '-p',
        join(here, 'tsconfig.json'),
        '--outDir',
        outDir,
      ],
      { cwd: repoRoot, stdio: 'inherit' },
    );
  }, 120_000);
  afterEach(() => {
    running?.child.kill('SIGKILL');
    running = undefined;
  });
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  const cases = [
    { adapter: 'express', hooks: '0' },
    { adapter: 'express', hooks: '1' },
    { adapter: 'fastify', hooks: '0' },
    { adapter: 'fastify', hooks: '1' },
  ] as const;

  for (const { adapter, hooks } of cases) {
    it(`drains on SIGTERM under keep-alive load on ${adapter}${hooks === '1' ? ' with app.enableShutdownHooks()' : ''}: readiness 503 first, 0 failed requests, exit 0`, async () => {
      running = await startPlainApp({ PLAIN_ADAPTER: adapter, PLAIN_SHUTDOWN_HOOKS: hooks });
      const service = running;
      const load = startKeepAliveLoad(`${service.baseUrl}/`, 8);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const signalledAt = performance.now();
      service.child.kill('SIGTERM');
      let readinessFailedAfterMs: number | undefined;
      while (readinessFailedAfterMs === undefined && performance.now() - signalledAt < 2_000) {
        const response = await fetch(`${service.baseUrl}/readyz`);
        if (response.status === 503) readinessFailedAfterMs = performance.now() - signalledAt;
      }
      const code = await service.exited;
      await load.stop();

      expect(readinessFailedAfterMs).toBeLessThan(500);
      expect(code).toBe(0);
      const failed = load.outcomes.filter(
        (outcome) =>
          outcome.sentAt < signalledAt + DRAIN_DELAY_MS &&
          (outcome.error !== undefined || outcome.status !== 200),
      );
      expect(failed).toEqual([]);
      expect(load.outcomes.filter((outcome) => outcome.status === 200).length).toBeGreaterThan(20);
      const lines = service.output();
      expect(lines).toContain('"msg":"Shutting down (SIGTERM)"');
      expect(lines).toContain('"msg":"Shutdown complete"');
      // The sequence ran once, and Nest's own hooks after the drain.
      expect(lines.match(/"msg":"Shutting down/g)).toHaveLength(1);
    }, 30_000);
  }

  it('exits at once on Ctrl-C (SIGINT) outside Kubernetes: no drain delay unless one is set, exit 0', async () => {
    running = await startPlainApp({ SHUTDOWN_DRAIN_DELAY_MS: undefined });
    const service = running;
    await fetch(`${service.baseUrl}/`).then((response) => expect(response.status).toBe(200));

    service.child.kill('SIGINT');
    const code = await service.exited;

    expect(code).toBe(0);
    expect(shutdownLine(service.output(), 'SIGINT')).toMatchObject({ drainDelayMs: 0 });
    expect(service.output()).toContain('"msg":"Shutdown complete"');
  }, 30_000);

  it('keeps the 5 s drain delay by default in Kubernetes (KUBERNETES_SERVICE_HOST set), even with ENVIRONMENT unset', async () => {
    running = await startPlainApp({
      SHUTDOWN_DRAIN_DELAY_MS: undefined,
      ENVIRONMENT: undefined,
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
    });
    const service = running;

    service.child.kill('SIGTERM');
    await waitFor(() => service.output().includes('Shutting down (SIGTERM)') || undefined, 5_000, {
      description: 'the shutdown to begin',
    });
    // Still serving during the drain delay, with readiness failed.
    const served = await fetch(`${service.baseUrl}/`);
    const ready = await fetch(`${service.baseUrl}/readyz`);

    expect(shutdownLine(service.output(), 'SIGTERM')).toMatchObject({ drainDelayMs: 5000 });
    expect(served.status).toBe(200);
    expect(ready.status).toBe(503);
  }, 30_000);

  for (const adapter of ['express', 'fastify'] as const) {
    it(`drains with ShutdownModule imported alone on ${adapter}: the request in flight finishes, new ones get 503, exit 0`, async () => {
      running = await startPlainApp(
        { PLAIN_MODULES: 'shutdown', PLAIN_ADAPTER: adapter, SHUTDOWN_DRAIN_DELAY_MS: '0' },
        '/',
      );
      const service = running;
      const load = startKeepAliveLoad(`${service.baseUrl}/`, 4);
      const slow = fetch(`${service.baseUrl}/slow`);
      await new Promise((resolve) => setTimeout(resolve, 100));

      // Without the module, Node's default for SIGTERM kills the process: the
      // slow request would fail and the exit code would be the signal's.
      const signalledAt = Date.now();
      service.child.kill('SIGTERM');
      const slowResponse = await slow;
      const code = await service.exited;
      await load.stop();

      expect(slowResponse.status).toBe(200);
      expect(code).toBe(0);
      expect(service.output()).toContain('Shutting down (SIGTERM)');
      const failedBeforeSignal = load.outcomes.filter(
        (outcome) => outcome.sentAt < signalledAt && outcome.status !== 200,
      );
      expect(failedBeforeSignal).toEqual([]);
      // What came after got an answer (200 while in flight work ran, 503 after) or a refused connection.
      for (const outcome of load.outcomes) {
        expect([200, 503, undefined]).toContain(outcome.status);
      }
    }, 30_000);
  }
});
