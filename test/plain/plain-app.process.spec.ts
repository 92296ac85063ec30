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
async function startPlainApp(env: Record<string, string>): Promise<PlainProcess> {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [join(outDir, 'main.js')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...Object.fromEntries(
        Object.entries(PLAIN_ENV).filter(
          (entry): entry is [string, string] => entry[1] !== undefined,
        ),
      ),
      ENVIRONMENT: 'production',
      SHUTDOWN_DRAIN_DELAY_MS: String(DRAIN_DELAY_MS),
      PORT: String(port),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => (await fetch(`${baseUrl}/livez`).catch(() => undefined))?.ok || undefined,
    20_000,
    { description: 'the plain app to listen', intervalMs: 50 },
  );
  return { child, baseUrl, output: () => output, exited };
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
});
