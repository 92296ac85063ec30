import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureBuilt,
  SHUTDOWN_TEST_APP,
  spawnEssayService,
  type EssayServiceProcess,
} from '../support/essay-service-process.js';
import { startKeepAliveLoad, summarizeLoad } from '../support/keep-alive-load.js';

const DRAIN_DELAY_MS = 2_000;
/** The phases of a shutdown with nothing registered, in the order they must run. */
const ALL_PHASES = [
  'readiness',
  'drain delay',
  'stop accepting',
  'stop consumers',
  'in-flight requests',
  'lifecycle hooks',
];

interface LogLine {
  time: string;
  msg: string;
  phase?: string;
  [field: string]: unknown;
}

function logLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

function phases(output: string): string[] {
  return logLines(output)
    .filter((line) => line.msg.startsWith('Shutdown phase done: '))
    .map((line) => line.phase ?? '');
}

/** Sends `signal` and measures how long until /readyz answers 503. */
async function signalAndTimeReadiness(
  service: EssayServiceProcess,
  signal: NodeJS.Signals,
): Promise<number> {
  const signalledAt = performance.now();
  service.child.kill(signal);
  for (;;) {
    const response = await fetch(`${service.baseUrl}/readyz`);
    if (response.status === 503) return performance.now() - signalledAt;
    if (performance.now() - signalledAt > 2_000) throw new Error('readiness never failed');
  }
}

describe('graceful shutdown (the built app, real signals)', () => {
  let service: EssayServiceProcess | undefined;

  beforeAll(async () => {
    await ensureBuilt();
  });

  afterEach(async () => {
    await service?.kill();
    service = undefined;
  });

  describe.each(['express', 'fastify'] as const)(
    'graceful shutdown on %s (built app, real signals)',
    (adapter) => {
      const start = (env: Record<string, string> = {}) =>
        spawnEssayService({
          main: SHUTDOWN_TEST_APP,
          env: {
            TEST_ADAPTER: adapter,
            SHUTDOWN_DRAIN_DELAY_MS: String(DRAIN_DELAY_MS),
            SHUTDOWN_TIMEOUT_MS: '10000',
            ...env,
          },
        });

      it('drops nothing under keep-alive load: readiness flips at once, in-flight work completes, exit 0', async () => {
        service = await start();
        const load = startKeepAliveLoad(`${service.baseUrl}/fast`, 50);
        await sleep(500);
        const slow = fetch(`${service.baseUrl}/slow?ms=${DRAIN_DELAY_MS + 1_500}`);
        await sleep(100);

        const signalledAt = Date.now();
        const readinessMs = await signalAndTimeReadiness(service, 'SIGTERM');
        const liveness = await fetch(`${service.baseUrl}/livez`);
        const slowResponse = await slow;
        const exit = await service.exited;
        const exitedAfterMs = Date.now() - signalledAt;
        await load.stop();

        // The flip itself, from the service's log; a probe's view waits behind the load.
        const lines = logLines(service.stdout());
        const flippedAt = Date.parse(
          lines.find((line) => line.msg === 'Readiness now fails: shutting down')?.time ??
            'missing',
        );
        expect(flippedAt - signalledAt).toBeLessThan(100);
        expect(readinessMs).toBeLessThan(1_000);
        expect(liveness.status).toBe(200);
        expect(slowResponse.status).toBe(200);
        expect(await slowResponse.json()).toEqual({ sleptMs: DRAIN_DELAY_MS + 1_500 });
        expect(slowResponse.headers.get('connection')).toBe('close');
        expect(exit).toEqual({ code: 0, signal: null });
        expect(exitedAfterMs).toBeLessThan(DRAIN_DELAY_MS + 5_000);

        const closedAt = Date.parse(
          lines.find((line) => line.phase === 'drain delay')?.time ?? 'missing',
        );
        const duringDrain = load.outcomes.filter((outcome) => outcome.sentAt < closedAt);
        const failedDuringDrain = duringDrain.filter((outcome) => outcome.status !== 200);
        // No request is lost across the whole shutdown, before or after the
        // listener closed; a refused new connection sent nothing.
        expect(summarizeLoad(load.outcomes).lost).toEqual([]);
        expect(duringDrain.length).toBeGreaterThan(100);
        expect(failedDuringDrain).toEqual([]);
        // After the listener closed: answered with Connection: close, or refused.
        const acceptingStoppedAt = Date.parse(
          lines.find((line) => line.phase === 'stop accepting')?.time ?? 'missing',
        );
        const after = load.outcomes.filter((outcome) => outcome.sentAt >= closedAt);
        expect(
          after.filter(
            (o) => o.status !== undefined && !o.connectionClose && o.startedAt > acceptingStoppedAt,
          ),
        ).toEqual([]);

        expect(phases(service.stdout())).toEqual(ALL_PHASES);
        console.info(
          `[${adapter}] readiness failing ${flippedAt - signalledAt} ms after the signal (a probe saw 503 after ${readinessMs.toFixed(1)} ms); ${duringDrain.length} requests during the drain, ` +
            `${failedDuringDrain.length} failed; ${after.length} after the close ` +
            `(${after.filter((o) => o.error === 'ECONNREFUSED').length} refused new connections, ` +
            `${after.filter((o) => o.error && o.error !== 'ECONNREFUSED').length} other errors, ` +
            `${after.filter((o) => o.status === 503).length} 503); ` +
            `exit ${exit.code} after ${exitedAfterMs} ms`,
        );
      });

      it('loses no request sent on a reused keep-alive connection across SIGTERM (several runs)', async () => {
        // A race: each run closes the listener under a fresh load of reused sockets.
        const runs = 3;
        const drainDelayMs = 300;
        const totals = { requests: 0, afterClose: 0, refused: 0, lost: 0 };
        for (let run = 1; run <= runs; run++) {
          service = await start({ SHUTDOWN_DRAIN_DELAY_MS: String(drainDelayMs) });
          const load = startKeepAliveLoad(`${service.baseUrl}/fast`, 50);
          // Every connection answered once, then reused: a cold process on a
          // busy machine accepts its first connections late, and a connection
          // still in the accept queue is reset by the listener's close.
          const answered = (reused: boolean) =>
            load.outcomes.filter(
              (o) => o.status !== undefined && Boolean(o.reusedSocket) === reused,
            ).length;
          await expect
            .poll(() => answered(false) >= 50 && answered(true) >= 250, { timeout: 20_000 })
            .toBe(true);
          const signalledAt = Date.now();
          service.child.kill('SIGTERM');
          const exit = await service.exited;
          const exitedAfterMs = Date.now() - signalledAt;
          await load.stop();

          const closedAt = Date.parse(
            logLines(service.stdout()).find((line) => line.phase === 'stop accepting')?.time ??
              'missing',
          );
          const summary = summarizeLoad(load.outcomes);
          const afterClose = load.outcomes.filter((outcome) => outcome.sentAt > closedAt);
          // Issued after the listener closed (its 'finish', sentAt, may be seen late).
          const answeredAfterClose = load.outcomes.filter(
            (outcome) => outcome.startedAt > closedAt && outcome.status !== undefined,
          );
          totals.requests += summary.requests;
          totals.afterClose += afterClose.length;
          totals.refused += summary.refused;
          totals.lost += summary.lost.length;
          console.info(
            `[${adapter}] run ${run}: ${summary.requests} requests, ${afterClose.length} sent after the listener closed ` +
              `(${answeredAfterClose.length} answered, ${summary.refused} refused new connections), ` +
              `${summary.lost.length} lost (${summary.lost.map((o) => `${o.error} ${o.sentAt - closedAt} ms after the close${o.reusedSocket ? ', reused' : ', new'} connection, ${o.written ? 'written' : 'not written'}, ended ${o.endedAt - closedAt} ms`).join(', ')}); ` +
              `exit ${exit.code} after ${exitedAfterMs} ms`,
          );

          expect(summary.lost).toEqual([]);
          // Every response of the drain tells the client to stop reusing the connection.
          expect(answeredAfterClose.filter((outcome) => !outcome.connectionClose)).toEqual([]);
          expect(exit).toEqual({ code: 0, signal: null });
          expect(exitedAfterMs).toBeLessThan(drainDelayMs + 10_000);
          service = undefined;
        }
        console.info(`[${adapter}] ${runs} runs: ${JSON.stringify(totals)}`);
      });

      /** Opens a connection and sends half a request: the connection is busy, not idle. */
      async function halfSentRequest(correlationId: string) {
        const socket = connect(Number(new URL(service!.baseUrl).port), '127.0.0.1');
        await new Promise((resolve) => socket.once('connect', resolve));
        socket.write('GET /fast HTTP/1.1\r\nHost: localhost\r\n');
        let answer = '';
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
        const closed = new Promise((resolve) => socket.once('close', resolve));
        return {
          finish: async () => {
            socket.write(`X-Correlation-ID: ${correlationId}\r\n\r\n`);
            await closed;
            return answer;
          },
        };
      }

      it('serves a request arriving on an open connection after the listener closed, with Connection: close', async () => {
        service = await start({ SHUTDOWN_DRAIN_DELAY_MS: '300' });
        const slow = fetch(`${service.baseUrl}/slow?ms=2000`);
        const late = await halfSentRequest('late-request-1');
        await sleep(100);

        service.child.kill('SIGTERM');
        await sleep(800); // the listener closed at 300 ms; the slow request holds the shutdown
        const answer = await late.finish();

        expect(answer).toMatch(/^HTTP\/1\.1 200 /);
        expect(answer).toMatch(/\r\nconnection: close\r\n/i);
        expect(answer).toContain('{"ok":true}');
        expect((await slow).status).toBe(200);
        expect(await service.exited).toEqual({ code: 0, signal: null });
      });

      it('answers 503 SHUTTING_DOWN, not a reset, to a request arriving once in-flight work is done', async () => {
        service = await start({ SHUTDOWN_DRAIN_DELAY_MS: '200', TEST_SLOW_CLEANUP_MS: '3000' });
        const late = await halfSentRequest('late-request-2');
        await sleep(100);

        service.child.kill('SIGTERM');
        // Past the in-flight phase and its 1 s keep-alive grace, inside the slow cleanup.
        await sleep(2_000);
        const answer = await late.finish();

        expect(answer).toMatch(/^HTTP\/1\.1 503 /);
        expect(answer).toMatch(/\r\ncontent-type: application\/problem\+json/i);
        expect(answer).toMatch(/\r\nconnection: close\r\n/i);
        expect(answer).toContain('"code":"SHUTTING_DOWN"');
        expect(answer).toContain('"correlationId":"late-request-2"');
        expect(await service.exited).toEqual({ code: 0, signal: null });
        expect(phases(service.stdout())).toContain('cleanup slow-test-cleanup');
      });
    },
  );

  describe('the shutdown budget and signals (built app)', () => {
    it('exits 1 at the budget when a hook hangs, naming the hook', async () => {
      service = await spawnEssayService({
        main: SHUTDOWN_TEST_APP,
        env: { TEST_HANGING_HOOK: '1', SHUTDOWN_DRAIN_DELAY_MS: '0', SHUTDOWN_TIMEOUT_MS: '1500' },
      });
      const signalledAt = Date.now();
      service.child.kill('SIGTERM');
      const exit = await service.exited;
      const tookMs = Date.now() - signalledAt;

      expect(exit).toEqual({ code: 1, signal: null });
      expect(tookMs).toBeGreaterThanOrEqual(1_400);
      expect(tookMs).toBeLessThan(5_000);
      const overrun = logLines(service.stdout()).find((line) =>
        line.msg.startsWith('Shutdown budget'),
      );
      expect(overrun).toMatchObject({ phase: 'lifecycle hooks', level: 'error' });
      expect(overrun?.pendingHooks).toContain('HangingHook.onApplicationShutdown');
    });

    it('runs the same sequence on SIGINT', async () => {
      service = await spawnEssayService({
        main: SHUTDOWN_TEST_APP,
        env: { SHUTDOWN_DRAIN_DELAY_MS: '200' },
      });
      const readinessMs = await signalAndTimeReadiness(service, 'SIGINT');

      expect(await service.exited).toEqual({ code: 0, signal: null });
      expect(readinessMs).toBeLessThan(100);
      expect(phases(service.stdout())).toEqual(ALL_PHASES);
    });

    it('exits at once on a second signal', async () => {
      service = await spawnEssayService({
        main: SHUTDOWN_TEST_APP,
        env: { SHUTDOWN_DRAIN_DELAY_MS: '10000', SHUTDOWN_TIMEOUT_MS: '10000' },
      });
      service.child.kill('SIGTERM');
      await sleep(300);
      const secondAt = Date.now();
      service.child.kill('SIGTERM');
      const exit = await service.exited;

      expect(exit).toEqual({ code: 1, signal: null });
      expect(Date.now() - secondAt).toBeLessThan(1_000);
      expect(service.output()).toContain(
        'SIGTERM again during the shutdown (drain delay): exiting now',
      );
    });

    it('warns at startup when the budgets exceed the grace period', async () => {
      service = await spawnEssayService({
        main: SHUTDOWN_TEST_APP,
        env: {
          SHUTDOWN_DRAIN_DELAY_MS: '5000',
          SHUTDOWN_TIMEOUT_MS: '25000',
          SHUTDOWN_GRACE_PERIOD_MS: '20000',
        },
      });
      // Log lines reach stdout in batches, at least every 100 ms.
      const warningLine = () =>
        logLines(service!.stdout()).find((line) =>
          line.msg.startsWith('The shutdown may be killed before it ends'),
        );
      await expect.poll(warningLine).toMatchObject({ level: 'warn' });
      const warning = warningLine();
      expect(warning?.msg).toContain(
        '= 30000 ms, above the grace period SHUTDOWN_GRACE_PERIOD_MS 20000 ms',
      );
    });
  });
});
