import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';

// These tests run the built app the way production does, so they see what an
// operator sees: the exit code and everything printed. The build comes from
// the globalSetup in test/support/global-build.ts.
const MAIN = fileURLToPath(new URL('../../dist/apps/essay-service/main.js', import.meta.url));

/** Hard limit on one child's life, well inside the test timeout. */
const PROCESS_TIMEOUT_MS = 20_000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface AppProcess {
  readonly child: ChildProcess;
  /** Everything the process printed so far, stdout and stderr. */
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves once the process has exited and its output is complete. */
  readonly exited: Promise<Exit>;
  /** Resolves when stdout matches; rejects if the process exits first. */
  waitForStdout(pattern: RegExp): Promise<void>;
}

const children = new Set<ChildProcess>();
let cwd: string;

beforeAll(() => {
  if (!existsSync(MAIN)) {
    throw new Error(
      `${MAIN} is missing: run "npm run build" (the test/support/global-build.ts globalSetup does).`,
    );
  }
});

beforeEach(() => {
  // A fresh working directory: no .env and no data/ from the repo can leak in.
  cwd = mkdtempSync(join(tmpdir(), 'essay-service-process-'));
});

afterEach(async () => {
  await Promise.all(
    [...children].map(async (child) => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
    }),
  );
  children.clear();
  rmSync(cwd, { recursive: true, force: true });
});

/** Starts the built app with exactly `env` (plus PATH), nothing inherited from the test runner. */
function startApp(env: Record<string, string>): AppProcess {
  const child = spawn(process.execPath, [MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: PROCESS_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
  children.add(child);

  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });

  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForStdout: (pattern) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(stdout)) {
            listeners.delete(check);
            resolve();
          }
        };
        listeners.add(check);
        check();
        void exited.then(({ code, signal }) => {
          listeners.delete(check);
          reject(
            new Error(
              `The app exited (code ${code}, signal ${signal}) before printing ${pattern}.\n` +
                `stdout:\n${stdout}\nstderr:\n${stderr}`,
            ),
          );
        });
      }),
  };
}

/** Runs the app with an environment that must not start, and returns how it ended. */
async function runInvalid(
  env: Record<string, string>,
): Promise<Exit & { stdout: string; stderr: string }> {
  const app = startApp(env);
  const exit = await app.exited;
  return { ...exit, stdout: app.stdout(), stderr: app.stderr() };
}

/** A problem line of the ConfigValidationError message, as printed. */
function problemLine(setting: string): RegExp {
  return new RegExp(`^  - ${setting}: `, 'm');
}

describe('the built essay-service with an invalid environment', () => {
  it('exits with code 1 and explains a bad PORT', async () => {
    const result = await runInvalid({ PORT: 'abc' });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Invalid configuration for EssayServiceConfig: 1 problem\n');
    expect(result.stderr).toContain('  - PORT: must be an integer from 1 to 65535 (got "abc")\n');
    expect(result.stderr).toContain(
      'Set these environment variables (or put them in .env) and start again.',
    );
    expect(result.stdout).not.toContain('listening on');
  });

  it('exits with code 1 and explains a bad LOG_LEVEL', async () => {
    const result = await runInvalid({ LOG_LEVEL: 'LOUD' });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      '  - LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (got "LOUD")\n',
    );
  });

  it('names every bad setting in one message', async () => {
    const result = await runInvalid({
      PORT: '70000',
      LOG_LEVEL: 'LOUD',
      METRICS_ENABLED: 'maybe',
      CORS_ORIGINS: 'https://app.example.com/login',
    });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Invalid configuration for EssayServiceConfig: 4 problems\n');
    for (const setting of ['PORT', 'LOG_LEVEL', 'METRICS_ENABLED', 'CORS_ORIGINS']) {
      expect(result.stderr).toMatch(problemLine(setting));
    }
    expect(result.stderr.match(/^Invalid configuration/gm)).toHaveLength(1);
  });

  it.each<{ case: string; env: Record<string, string>; bad: string[] }>([
    {
      case: 'a valid postgres DATABASE_URL beside a bad PORT',
      env: { DATABASE_URL: 'postgres://user:S3cretPassw0rd@localhost:5432/db', PORT: 'abc' },
      bad: ['PORT'],
    },
    {
      case: 'a DATABASE_URL with a refused scheme beside a bad LOG_LEVEL',
      env: { DATABASE_URL: 'mysql://user:S3cretPassw0rd@localhost:5432/db', LOG_LEVEL: 'LOUD' },
      bad: ['DATABASE_URL', 'LOG_LEVEL'],
    },
    {
      case: 'a Redis password and a too-short API key beside a bad PORT',
      env: {
        DATABASE_URL: 'postgres://user:S3cretPassw0rd@localhost:5432/db',
        REDIS_URL: 'redis://:S3cretPassw0rd@localhost:6379',
        API_KEYS: 'S3cretPassw0rd',
        PORT: '0',
      },
      bad: ['API_KEYS', 'PORT'],
    },
  ])('never prints a secret: $case', async ({ env, bad }) => {
    const result = await runInvalid(env);

    expect(result.code).toBe(1);
    for (const setting of bad) expect(result.stderr).toMatch(problemLine(setting));
    expect(result.stderr).toContain(`: ${bad.length} problem`);
    expect(result.stdout).not.toContain('S3cretPassw0rd');
    expect(result.stderr).not.toContain('S3cretPassw0rd');
  });
});

describe('the built essay-service with a valid environment', () => {
  it('starts, accepts an essay with 202, and exits cleanly on SIGTERM', async () => {
    const port = await freePort();
    const app = startApp({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: 'sqlite::memory:',
      SHUTDOWN_DRAIN_DELAY_MS: '0',
    });
    await app.waitForStdout(/listening on http:\/\/127\.0\.0\.1:\d+/);

    const response = await fetch(`http://127.0.0.1:${port}/essays`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'On bridges',
        text: 'Bridges connect places. They also connect people.',
      }),
    });

    expect(response.status).toBe(202);
    const body = (await response.json()) as { id: string; status: string };
    expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(body.status).toBe('pending');
    expect(response.headers.get('location')).toBe(`/essays/${body.id}`);

    app.child.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });
  });

  it('logs its settings at startup without the API key or the database password', async () => {
    const apiKey = 'k3y-0123456789abcdef';
    expect(apiKey).toHaveLength(20);
    const port = await freePort();
    // Trust auth on the test PostgreSQL ignores the password, so the app really connects.
    const app = startApp({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgres://postgres:topsecretpw@127.0.0.1:5432/test',
      API_KEYS: apiKey,
      SHUTDOWN_DRAIN_DELAY_MS: '0',
    });
    await app.waitForStdout(/listening on http:\/\/127\.0\.0\.1:\d+/);
    app.child.kill('SIGTERM');
    const exit = await app.exited;
    const printed = app.stdout() + app.stderr();

    expect(exit).toEqual({ code: 0, signal: null });
    expect(app.stdout()).toContain('Configuration loaded');
    expect(app.stdout()).toContain('postgres://postgres:***@127.0.0.1:5432/test');
    expect(printed).not.toContain('topsecretpw');
    expect(printed).not.toContain(apiKey);
  });
});

describe('the built essay-service failing to start', () => {
  let holder: Server | undefined;
  const held = new Set<Socket>();

  afterEach(async () => {
    for (const socket of held) socket.destroy();
    held.clear();
    await new Promise((resolve) => (holder ? holder.close(resolve) : resolve(undefined)));
    holder = undefined;
  });

  /** A listener that accepts connections and never answers: a dependency that never comes up. */
  async function blackHole(): Promise<number> {
    holder = createServer((socket) => held.add(socket));
    await new Promise<void>((resolve) => holder!.listen(0, '127.0.0.1', resolve));
    return (holder.address() as { port: number }).port;
  }

  it('exits 1 with a clear message when its port is taken', async () => {
    holder = createServer();
    const port = await new Promise<number>((resolve) =>
      holder!.listen(0, '127.0.0.1', () => resolve((holder!.address() as { port: number }).port)),
    );

    const app = startApp({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: 'sqlite::memory:',
    });
    const exit = await app.exited;

    expect(exit).toEqual({ code: 1, signal: null });
    expect(app.stdout()).toMatch(/"msg":"Startup failed: listen EADDRINUSE[^"]*127\.0\.0\.1:\d+"/);
  });

  it('exits 1 at STARTUP_TIMEOUT_MS when the database never answers', async () => {
    const port = await blackHole();
    const startedAt = Date.now();

    const app = startApp({
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test`,
      STARTUP_TIMEOUT_MS: '2000',
    });
    const exit = await app.exited;

    expect(exit).toEqual({ code: 1, signal: null });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(2_000);
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(app.stderr()).toContain('Startup did not finish within 2000 ms (STARTUP_TIMEOUT_MS)');
  });
});
