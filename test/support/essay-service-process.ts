import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import request from 'supertest';
import { ISOLATED_ENV, type HttpAgent } from './essay-service.js';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The graceful-shutdown fixture: the built service plus /fast, /slow and a hanging hook. */
export const SHUTDOWN_TEST_APP = join(REPO_ROOT, 'test/support/fixtures/shutdown-test-app.mjs');

/** The built service, as `npm run start:prod` runs it. */
export const BUILT_MAIN = join(REPO_ROOT, 'dist/apps/essay-service/main.js');
const BUILT_LIBRARY = join(REPO_ROOT, 'libs/production-readiness/dist/index.js');

const BUILD_TIMEOUT_MS = 170_000;
const STARTUP_TIMEOUT_MS = 20_000;
const OUTPUT_KEPT_CHARS = 8_000_000;

/**
 * Runs `npm run build` unless the built service exists. Test files that run
 * at the same time build once: the first takes a lock directory, the others
 * wait for it to go. The build is not checked for staleness; a fresh one is
 * the global setup's job.
 */
export async function ensureBuilt(): Promise<void> {
  const isBuilt = () => existsSync(BUILT_MAIN) && existsSync(BUILT_LIBRARY);
  if (isBuilt()) return;
  const repoHash = createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 12);
  const lock = join(tmpdir(), `essay-service-build-${repoHash}.lock`);
  const deadline = Date.now() + BUILD_TIMEOUT_MS;
  while (Date.now() < deadline) {
    try {
      mkdirSync(lock);
    } catch {
      // Someone else builds; a lock older than a build can take is left by a killed run.
      const lockStats = statSync(lock, { throwIfNoEntry: false });
      if (lockStats && Date.now() - lockStats.mtimeMs > BUILD_TIMEOUT_MS) {
        rmSync(lock, { recursive: true, force: true });
      }
      await sleep(500);
      if (isBuilt() && !existsSync(lock)) return;
      continue;
    }
    try {
      if (!isBuilt()) {
        await promisify(execFile)('npm', ['run', 'build'], {
          cwd: REPO_ROOT,
          timeout: BUILD_TIMEOUT_MS,
          maxBuffer: 16 * 1024 * 1024,
        });
      }
      return;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  throw new Error(`Timed out waiting for another test run to build ${BUILT_MAIN} (lock ${lock})`);
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The built essay service running in a child process. */
export interface EssayServiceProcess {
  child: ChildProcess;
  baseUrl: string;
  http: HttpAgent;
  /** stdout and stderr together (the last 8 million characters). */
  output(): string;
  /** stdout alone: the JSON log lines, whole (the last 8 million characters). */
  stdout(): string;
  /** Sends `signal` (SIGKILL by default) and waits for the process to end. */
  kill(signal?: NodeJS.Signals): Promise<Exit>;
  /** Resolves when the process has ended. */
  exited: Promise<Exit>;
}

/**
 * Spawns `node dist/apps/essay-service/main.js` on a free loopback port with
 * `env` over the isolated defaults (in-memory SQLite, in-process bus), and
 * waits until it answers HTTP. Call ensureBuilt() first.
 */
export async function spawnEssayService(
  options: {
    env?: Record<string, string | undefined>;
    /** The script to run instead of the built main (a fixture on the built app). */
    main?: string;
    /** Node's own options before the script, such as `--import <module>`. */
    nodeArgs?: string[];
  } = {},
): Promise<EssayServiceProcess> {
  const port = await freePort();
  const env: Record<string, string> = {};
  const overrides = { ...ISOLATED_ENV, HOST: '127.0.0.1', PORT: String(port), ...options.env };
  for (const [name, value] of Object.entries({ ...process.env, ...overrides })) {
    if (value !== undefined) env[name] = value;
  }
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete env[name];

  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.main ?? BUILT_MAIN], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_KEPT_CHARS);
  };
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout = (stdout + chunk.toString()).slice(-OUTPUT_KEPT_CHARS);
  });
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<Exit>((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit({ code, signal })),
  );
  let exit: Exit | undefined;
  const startup = new AbortController();
  void exited.then((value) => {
    exit = value;
    startup.abort(
      new Error(`the built service exited during startup with ${JSON.stringify(value)}`),
    );
  });

  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (!exit) child.kill(signal);
    return exited;
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    // Any UUID: a 404 proves routing, validation and the database all answer.
    await waitFor(
      async () => {
        const response = await fetch(`${baseUrl}/essays/00000000-0000-4000-8000-000000000000`);
        return response.status === 404 ? true : undefined;
      },
      STARTUP_TIMEOUT_MS,
      { description: `the built service on port ${port}`, intervalMs: 100, signal: startup.signal },
    );
  } catch (error) {
    await kill();
    throw new Error(`${(error as Error).message}\n--- service output ---\n${output}`, {
      cause: error,
    });
  }
  return {
    child,
    baseUrl,
    http: request(baseUrl),
    output: () => output,
    stdout: () => stdout,
    kill,
    exited,
  };
}
