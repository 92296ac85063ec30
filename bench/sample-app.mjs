// The built sample app (dist/apps/essay-service/main.js) as the benchmarks
// run it: a process of its own, on core 0 when pinned, its JSON logs in a
// file of its data dir, ready once /readyz answers 200; and its CPU time.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SAMPLE_APP_MAIN = join(ROOT, 'dist/apps/essay-service/main.js');

export const freePort = () =>
  new Promise((resolvePort) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });

const TICK_US = 1e6 / 100; // USER_HZ
/** The CPU time (user + system, all threads) a process has used, in µs; undefined once it is gone. */
export function processCpuUs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return undefined;
  }
}

// Apps still running if the benchmark ends early (an error): killed with it.
const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts the sample app (`main`: another build of it, say) with `env` over
 * this process's environment, in `dataDir` (a new temp dir by default,
 * removed by stop()). Rejects with
 * `startFailed` set when the app exits or is not ready within 60 s.
 */
export async function startSampleApp({
  env = {},
  dataDir,
  pinned = false,
  node = process.execPath,
  main = SAMPLE_APP_MAIN,
}) {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'npr-bench-app-'));
  const port = await freePort();
  const logFile = join(dir, 'service.log');
  const log = openSync(logFile, 'a');
  const command = pinned ? 'taskset' : node;
  const commandArgs = [...(pinned ? ['-c', '0', node] : []), main];
  const child = spawn(command, commandArgs, {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  running.add(child);
  child.once('exit', () => running.delete(child));
  const exited = once(child, 'exit');
  const logTail = () => readFileSync(logFile, 'utf8').slice(-3000);
  const origin = `http://127.0.0.1:${port}`;
  const startedAt = performance.now();
  for (;;) {
    if (child.exitCode !== null) {
      const error = new Error(`the app exited (${child.exitCode}) on start:\n${logTail()}`);
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
      throw Object.assign(error, { startFailed: true });
    }
    try {
      if ((await fetch(`${origin}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (performance.now() - startedAt > 60_000) {
      child.kill('SIGKILL');
      throw Object.assign(new Error('the app did not become ready in 60 s'), { startFailed: true });
    }
    await sleep(100);
  }
  let died;
  child.once('exit', (code, signal) => (died = { code, signal }));
  return {
    origin,
    // taskset execs node, so the pid is the app's own.
    pid: child.pid,
    dataDir: dir,
    startSeconds: (performance.now() - startedAt) / 1000,
    /** How the app ended if it ended by itself (a crash under load), else undefined. */
    get died() {
      return died;
    },
    logTail,
    /** Ends the app (SIGKILL, or SIGTERM for a graceful close) and removes a data dir it made. */
    async stop({ signal = 'SIGKILL' } = {}) {
      if (died) {
        console.warn(`  ! the app had exited (${JSON.stringify(died)}); its data dir: ${dir}`);
        return;
      }
      child.kill(signal);
      await exited;
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
