import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StartupReportService } from '../../libs/production-readiness/src/startup-report/startup-report.service.js';
import {
  startCapturedEssayService,
  type CapturedEssayService,
} from '../support/captured-essay-service.js';
import { BUILT_MAIN, ensureBuilt } from '../support/essay-service-process.js';
import { freePort } from '../support/free-port.js';
import type { LogLine } from '../support/log-capture.js';
import { waitFor } from '../support/wait-for.js';

const API_KEY = 'a-key-of-sixteen-characters-or-more';

const reportLines = (lines: LogLine[]) =>
  lines.filter((line) => String(line.msg).startsWith('Production readiness:'));

describe('the startup report', () => {
  let service: CapturedEssayService | undefined;

  afterEach(async () => {
    await service?.close();
    service = undefined;
  });

  it('logs features, dependencies and budgets once, and warns for each risk', async () => {
    service = await startCapturedEssayService({
      // In a Kubernetes pod (its service host set), where the drain delay defaults to 5 s.
      env: {
        API_KEYS: undefined,
        SHUTDOWN_GRACE_PERIOD_MS: '20000',
        SHUTDOWN_DRAIN_DELAY_MS: undefined,
        KUBERNETES_SERVICE_HOST: '10.96.0.1',
      },
    });
    const [report, ...more] = reportLines(service.logs.lines);
    expect(more).toEqual([]);
    expect(report).toMatchObject({
      level: 'info',
      context: 'ReadinessReport',
      msg: 'Production readiness: 2 risks (NO_API_KEYS, SHUTDOWN_BEYOND_GRACE_PERIOD)',
      features: { metrics: true, apiKeyCount: 0, messaging: 'in-process', strictReadiness: false },
      dependencies: [
        { name: 'database', kind: 'sqljs', timeoutsMs: {} },
        { name: 'broker', kind: 'in-process', timeoutsMs: {} },
      ],
      budgets: {
        drainDelayMs: 5000,
        shutdownTimeoutMs: 25000,
        gracePeriodMs: 20000,
        startupTimeoutMs: 60000,
        healthCheckTimeoutMs: 1000,
      },
      risks: ['NO_API_KEYS', 'SHUTDOWN_BEYOND_GRACE_PERIOD'],
    });
    const warnings = service.logs.lines.filter(
      (line) => line.context === 'ReadinessReport' && line.level === 'warn',
    );
    expect(warnings.map((line) => line.risk)).toEqual([
      'NO_API_KEYS',
      'SHUTDOWN_BEYOND_GRACE_PERIOD',
    ]);
    expect(warnings[1]?.msg).toContain(
      'drain delay 5000 ms + SHUTDOWN_TIMEOUT_MS 25000 ms = 30000 ms, above the grace period SHUTDOWN_GRACE_PERIOD_MS 20000 ms',
    );
    // The grace-period warning is the report's now, not said twice.
    expect(
      service.logs.lines.filter((line) =>
        String(line.msg).startsWith('The shutdown may be killed'),
      ),
    ).toHaveLength(1);
  });

  it('finds nothing to warn about in a deployment within its budgets', async () => {
    service = await startCapturedEssayService({
      env: { API_KEYS: API_KEY, SHUTDOWN_GRACE_PERIOD_MS: '35000' },
    });
    expect(reportLines(service.logs.lines)).toMatchObject([
      { level: 'info', msg: 'Production readiness: no risks found', risks: [] },
    ]);
    expect(service.app.get(StartupReportService).report?.risks).toEqual([]);
  });

  it('reports PostgreSQL with its timeouts and the pool against the server limit', async () => {
    const { createTestDatabase } = await import('../support/postgres.js');
    const database = await createTestDatabase('startup_report');
    try {
      service = await startCapturedEssayService({
        env: {
          API_KEYS: API_KEY,
          DATABASE_URL: database.url,
          // Only one connection kept open (the pool's min): the test shares the server.
          DATABASE_POOL_SIZE: '1',
          DATABASE_MAX_OVERFLOW: '500',
          DATABASE_STATEMENT_TIMEOUT_MS: '0',
        },
      });
      const report = service.app.get(StartupReportService).report;
      expect(report?.dependencies[0]).toEqual({
        name: 'database',
        kind: 'postgres',
        timeoutsMs: { DATABASE_ACQUIRE_TIMEOUT_MS: 2000, DATABASE_STATEMENT_TIMEOUT_MS: 0 },
      });
      expect(report?.databasePool?.max).toBe(501);
      expect(report?.databasePool?.serverLimit).toBeGreaterThan(0);
      expect(report?.risks.map((risk) => risk.code)).toEqual(
        expect.arrayContaining(['DEPENDENCY_WITHOUT_TIMEOUT', 'POOL_ABOVE_DATABASE_LIMIT']),
      );
    } finally {
      await service?.close();
      service = undefined;
      await database.drop();
    }
  });
});

describe('STRICT_READINESS=true, with the built app', () => {
  let cwd: string;

  beforeAll(async () => {
    await ensureBuilt();
  });

  afterEach(() => {
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  /** Starts the built app with exactly `env` (plus PATH) in an empty directory. */
  async function startBuilt(env: Record<string, string>) {
    cwd = mkdtempSync(join(tmpdir(), 'strict-readiness-'));
    const port = await freePort();
    const child = spawn(process.execPath, [BUILT_MAIN], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_URL: 'sqlite::memory:',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 20_000,
      killSignal: 'SIGKILL',
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    return { child, port, exited, output: () => output };
  }

  it('refuses to start on a risk: exit 1, naming every risk', async () => {
    const app = await startBuilt({ STRICT_READINESS: 'true', SHUTDOWN_GRACE_PERIOD_MS: '10000' });
    expect(await app.exited).toBe(1);
    const output = app.output();
    expect(output).toContain(
      'Startup failed: STRICT_READINESS=true: refusing to start with 2 production-readiness risks',
    );
    expect(output).toContain('  - NO_API_KEYS: API_KEYS is empty');
    expect(output).toContain('  - SHUTDOWN_BEYOND_GRACE_PERIOD: The shutdown may be killed');
    expect(output).not.toContain('listening on');
  });

  it('starts when nothing is at risk', async () => {
    const app = await startBuilt({ STRICT_READINESS: 'true', API_KEYS: API_KEY });
    try {
      await waitFor(
        async () => ((await fetch(`http://127.0.0.1:${app.port}/readyz`)).ok ? true : undefined),
        15_000,
        { description: 'the strict app ready', intervalMs: 100 },
      );
      // Log lines reach stdout in batches, at least every 100 ms.
      await waitFor(
        () => (app.output().includes('Production readiness: no risks found') ? true : undefined),
        2_000,
        { description: 'the startup report line', intervalMs: 50 },
      );
    } finally {
      app.child.kill('SIGKILL');
      await app.exited;
    }
  });
});
