import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISOLATED_ENV } from '../support/essay-service.js';
import { ensureBuilt } from '../support/essay-service-process.js';
import { freePort } from '../support/free-port.js';
import { closedByServer, rawConnection } from '../support/raw-http.js';
import { waitFor } from '../support/wait-for.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const APP = join(REPO_ROOT, 'test/support/fixtures/essay-service-app.mjs');

// The descriptor limit the service runs under, and more silent connections
// than it has descriptors: unprotected, the flood ends in EMFILE and real
// clients are reset until the attacker lets go.
const OPEN_FILES = 256;
const SILENT_CONNECTIONS = 300;
// The library's default silence timeout.
const SILENT_TIMEOUT_MS = 5_000;

interface LimitedService {
  child: ChildProcess;
  port: number;
  output(): string;
}

/** The built service under `prlimit --nofile`, as a container's ulimit would run it. */
async function spawnWithOpenFilesLimit(adapter: string): Promise<LimitedService> {
  const port = await freePort();
  const env: Record<string, string> = {};
  const overrides = {
    ...ISOLATED_ENV,
    HOST: '127.0.0.1',
    PORT: String(port),
    TEST_ADAPTER: adapter,
    LOG_LEVEL: 'WARNING',
  };
  for (const [name, value] of Object.entries({ ...process.env, ...overrides })) {
    if (value !== undefined) env[name] = value;
  }
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete env[name];
  // prlimit sets the limit, then execs node: the service starts under it.
  const child = spawn(
    'prlimit',
    [`--nofile=${OPEN_FILES}:${OPEN_FILES}`, '--', process.execPath, APP],
    { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-200_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  await waitFor(
    async () => ((await fetch(`http://127.0.0.1:${port}/livez`)).status === 200 ? true : undefined),
    30_000,
    { description: `the service on port ${port}`, intervalMs: 200 },
  );
  return { child, port, output: () => output };
}

/** One GET /livez on a connection of its own: the status, or the socket error's code. */
function realRequest(port: number): Promise<number | string> {
  return new Promise((resolveOutcome) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/livez', agent: false, timeout: 10_000 },
      (response) => {
        response.resume();
        response.once('end', () => resolveOutcome(response.statusCode ?? 0));
      },
    );
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', (error: NodeJS.ErrnoException) =>
      resolveOutcome(error.code ?? error.message),
    );
    req.end();
  });
}

describe.each(['express', 'fastify'] as const)(
  `silent connections against a service limited to ${OPEN_FILES} descriptors, on %s`,
  (adapter) => {
    let service: LimitedService;
    const silent: Socket[] = [];

    beforeAll(async () => {
      await ensureBuilt();
      service = await spawnWithOpenFilesLimit(adapter);
    }, 120_000);

    afterAll(async () => {
      for (const socket of silent) socket.destroy();
      if (service && service.child.exitCode === null) {
        service.child.kill('SIGKILL');
        await once(service.child, 'exit');
      }
    });

    it('runs under the limit', () => {
      const limits = readFileSync(`/proc/${service.child.pid}/limits`, 'utf8');
      expect(limits).toMatch(new RegExp(`^Max open files\\s+${OPEN_FILES}\\s`, 'm'));
    });

    it('keeps serving real clients through more silent connections than it has descriptors, and closes every one of them', async () => {
      const outcomes: Array<number | string> = [];
      let attacking = true;
      const clients = (async () => {
        while (attacking) {
          outcomes.push(await realRequest(service.port));
          await new Promise((r) => setTimeout(r, 100));
        }
      })();

      const openedAt = Date.now();
      for (let opened = 0; opened < SILENT_CONNECTIONS; opened += 25) {
        const batch = await Promise.all(
          Array.from({ length: 25 }, () => rawConnection(service.port)),
        );
        for (const socket of batch) socket.on('error', () => {});
        silent.push(...batch);
      }
      // Closed by the server, not by this client: each within the silence timeout
      // of its connecting (or at once, to make room), with a margin for this machine.
      const closedAfter = await Promise.all(
        silent.map((socket) =>
          closedByServer(socket, SILENT_TIMEOUT_MS + 10_000).then(() => Date.now() - openedAt),
        ),
      );
      attacking = false;
      await clients;

      expect(Math.max(...closedAfter)).toBeLessThan(SILENT_TIMEOUT_MS + 10_000);
      expect(outcomes.length).toBeGreaterThan(10);
      expect(outcomes.filter((outcome) => outcome !== 200)).toEqual([]);
      expect(service.child.exitCode).toBeNull();
      expect(await realRequest(service.port)).toBe(200);
      expect(service.output()).not.toMatch(/EMFILE/);
    }, 60_000);
  },
);
