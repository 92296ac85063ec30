import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startSecuredEssayService,
  type SecuredEssayService,
} from '../support/secured-essay-service.js';

// Debian's Chromium, as .ci/run installs it. A missing browser fails this
// file loudly: a CORS policy that was never tried in a browser is not tested.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const KEY = 'browser-client-key-2026-0001';

/** A page server on its own loopback port: its own origin. */
async function startPageServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><meta charset="utf-8"><title>client</title><p>client page</p>');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { server, origin: `http://127.0.0.1:${port}` };
}

/** Chromium started with exactly our flags; playwright-core drives it over CDP. */
async function launchChromium(
  userDataDir: string,
): Promise<{ process: ChildProcess; browser: Browser }> {
  const child = spawn(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${userDataDir}`,
      '--remote-debugging-address=127.0.0.1',
      '--remote-debugging-port=0',
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let stderr = '';
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`Chromium did not start in 30 s:\n${stderr}`)),
      30_000,
    );
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Chromium exited with ${code}:\n${stderr}`));
    });
  });
  const browser = await chromium.connectOverCDP(endpoint);
  return { process: child, browser };
}

interface FetchOutcome {
  ok: boolean;
  status?: number;
  correlationId?: string | null;
  location?: string | null;
  error?: string;
}

/** Runs fetch() in the page, as the page's own script would. */
function fetchFromPage(
  page: Page,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<FetchOutcome> {
  return page.evaluate(
    async ({ url, init }) => {
      try {
        const response = await fetch(url, init);
        return {
          ok: true,
          status: response.status,
          correlationId: response.headers.get('X-Correlation-ID'),
          location: response.headers.get('Location'),
        };
      } catch (error) {
        return { ok: false, error: String(error) };
      }
    },
    { url, init },
  );
}

describe('CORS in a real browser (headless Chromium)', () => {
  let api: SecuredEssayService;
  let allowed: { server: Server; origin: string };
  let other: { server: Server; origin: string };
  let chromiumProcess: ChildProcess | undefined;
  let browser: Browser | undefined;
  let userDataDir: string;

  beforeAll(async () => {
    allowed = await startPageServer();
    other = await startPageServer();
    api = await startSecuredEssayService({
      env: { API_KEYS: KEY, CORS_ORIGINS: allowed.origin },
    });
    userDataDir = mkdtempSync(join(tmpdir(), 'cors-browser-'));
    // Without the browser every test below fails on its own, saying why.
    if (existsSync(CHROMIUM)) {
      ({ process: chromiumProcess, browser } = await launchChromium(userDataDir));
    }
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    if (chromiumProcess?.pid !== undefined && chromiumProcess.exitCode === null) {
      // The whole group: the Debian wrapper script and the browser it started.
      process.kill(-chromiumProcess.pid, 'SIGTERM');
      await once(chromiumProcess, 'exit');
    }
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await api?.close();
    allowed?.server.close();
    other?.server.close();
  });

  async function openPage(origin: string): Promise<Page> {
    expect(
      browser,
      `Chromium is required at ${CHROMIUM} (Debian package chromium; set CHROMIUM_PATH to use another)`,
    ).toBeDefined();
    const context = browser!.contexts()[0] ?? (await browser!.newContext());
    const page = await context.newPage();
    await page.goto(`${origin}/`);
    return page;
  }

  it('lets a page from an allowed origin call the API with its key and read X-Correlation-ID', async () => {
    const page = await openPage(allowed.origin);

    const posted = await fetchFromPage(page, `${api.baseUrl}/essays`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-API-Key': KEY },
      body: JSON.stringify({ title: 'From a browser', text: 'The cat sat on the mat.' }),
    });

    expect(posted).toMatchObject({ ok: true, status: 202 });
    expect(posted.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(posted.location).toMatch(/^\/essays\/[0-9a-f-]{36}$/);
    // The browser asked first: the preflight was answered before the POST.
    const access = api.logs
      .accessLines()
      .map((line) => `${String(line.method)} ${String(line.status)}`);
    expect(access).toEqual(expect.arrayContaining(['OPTIONS 204', 'POST 202']));
    await page.close();
  });

  it('lets the allowed page read an error, with its correlation id', async () => {
    const page = await openPage(allowed.origin);

    const refused = await fetchFromPage(page, `${api.baseUrl}/essays/not-a-uuid`, {
      headers: { 'X-API-Key': 'not-the-key-at-all-0000' },
    });

    expect(refused).toMatchObject({ ok: true, status: 401 });
    expect(refused.correlationId).toBeTruthy();
    await page.close();
  });

  it('keeps a page from another origin out: its fetch rejects, and the refusal is logged', async () => {
    const page = await openPage(other.origin);
    const mark = api.logs.mark();

    const withKey = await fetchFromPage(page, `${api.baseUrl}/essays`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-API-Key': KEY },
      body: JSON.stringify({ title: 'From elsewhere', text: 'The cat sat on the mat.' }),
    });
    const simple = await fetchFromPage(page, `${api.baseUrl}/livez`, {});

    for (const outcome of [withKey, simple]) {
      expect(outcome.ok).toBe(false);
      expect(outcome.error).toMatch(/TypeError/);
    }
    const violations = api.logs
      .since(mark)
      .filter((line) => line.msg === 'CORS violation detected');
    expect(violations.map((line) => line.origin)).toEqual([other.origin, other.origin]);
    expect(
      api.logs
        .since(mark)
        .filter((line) => line.msg === 'request completed' && line.status === 202),
    ).toEqual([]);
    await page.close();
  });
});
