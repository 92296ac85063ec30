import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureBuilt,
  spawnEssayService,
  type EssayServiceProcess,
} from '../support/essay-service-process.js';
import { freePort } from '../support/free-port.js';
import { DOCKER_DIR, readText, REPO_ROOT, run } from './deploy-files.js';

interface ImageHealthcheck {
  /** The command as the image runs it, with its files mapped back to the repo. */
  command: string[];
  startPeriod: string | undefined;
}

/**
 * The Dockerfile's HEALTHCHECK, runnable outside Docker: its exec-form
 * command, with each image path that a COPY put there replaced by the
 * repository file it came from.
 */
function imageHealthcheck(): ImageHealthcheck {
  const dockerfile = readText(join(DOCKER_DIR, 'Dockerfile')).replace(/\\\n/g, ' ');
  const healthcheck = /^HEALTHCHECK\s+(.*?)CMD\s+(\[.*\])\s*$/m.exec(dockerfile);
  if (!healthcheck) throw new Error('docker/Dockerfile has no exec-form HEALTHCHECK');
  const workdir = [...dockerfile.matchAll(/^WORKDIR\s+(\S+)/gm)].at(-1)?.[1] ?? '/';
  const copies = new Map<string, string>();
  for (const [, source, target] of dockerfile.matchAll(/^COPY\s+(?!--from)(\S+)\s+(\S+)\s*$/gm)) {
    const imagePath = target.startsWith('/') ? target : join(workdir, target);
    copies.set(imagePath, join(REPO_ROOT, source));
  }
  const command = (JSON.parse(healthcheck[2]) as string[]).map((arg) => copies.get(arg) ?? arg);
  return { command, startPeriod: /--start-period=(\S+)/.exec(healthcheck[1])?.[1] };
}

async function runHealthcheck(port: number) {
  const [command, ...args] = imageHealthcheck().command;
  return run(command === 'node' ? process.execPath : command, args, {
    env: { PORT: String(port) },
  });
}

describe("the Dockerfile's HEALTHCHECK, outside Docker", () => {
  let service: EssayServiceProcess | undefined;
  let server: Server | undefined;

  beforeAll(async () => {
    await ensureBuilt();
  });

  afterEach(async () => {
    await service?.kill();
    service = undefined;
    server?.close();
    server = undefined;
  });

  it('runs node on the script the image ships, with no curl', () => {
    const { command, startPeriod } = imageHealthcheck();
    expect(command).toEqual(['node', join(REPO_ROOT, 'docker/healthcheck.mjs')]);
    expect(startPeriod).toBe('60s');
  });

  it('passes against the running built app', async () => {
    service = await spawnEssayService();
    const port = Number(new URL(service.baseUrl).port);
    const result = await runHealthcheck(port);
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('fails once the app is gone', async () => {
    service = await spawnEssayService();
    const port = Number(new URL(service.baseUrl).port);
    await service.kill();
    const result = await runHealthcheck(port);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('/livez did not answer');
  });

  it('fails when /livez answers 503', async () => {
    server = createServer((_request, response) => response.writeHead(503).end());
    const port = await freePort();
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    const result = await runHealthcheck(port);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('/livez answered 503');
  });
});

describe("the image's entrypoint", () => {
  const entrypoint = join(DOCKER_DIR, 'entrypoint.sh');
  const printNodeOptions = ['-e', 'process.stdout.write(process.env.NODE_OPTIONS ?? "")'];

  it('keeps a heap size given in NODE_OPTIONS', async () => {
    const result = await run('sh', [entrypoint, ...printNodeOptions], {
      env: { NODE_OPTIONS: '--max-old-space-size=200' },
    });
    expect(result).toMatchObject({ code: 0, stdout: '--max-old-space-size=200' });
  });

  it("sizes the heap at 75% of the cgroup's memory limit, or leaves V8's default without one", async () => {
    const limit = await run('sh', [
      '-c',
      'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || echo max',
    ]);
    const bytes = Number(limit.stdout.trim());
    const expected =
      Number.isFinite(bytes) && bytes < 2 ** 40
        ? `--max-old-space-size=${Math.floor((Math.floor(bytes / 2 ** 20) * 75) / 100)}`
        : '';
    const result = await run('sh', [entrypoint, ...printNodeOptions], {
      env: { NODE_OPTIONS: undefined },
    });
    expect(result).toMatchObject({ code: 0, stdout: expected });
  });
});
