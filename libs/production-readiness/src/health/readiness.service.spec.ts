import { Test, type TestingModule } from '@nestjs/testing';
import { HealthIndicatorService } from '@nestjs/terminus';
import { afterEach, describe, expect, it } from 'vitest';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { SERVICE_CONFIG } from '../config/default-service-config.js';
import {
  HEALTH_OPTIONS,
  type CheckVerdict,
  type DependencyCheck,
  type HealthOptions,
} from './health.options.js';
import { fromTerminusIndicator } from './checks/terminus-indicator.check.js';
import { ReadinessService } from './readiness.service.js';

const DATABASE_URL = 'postgres://essay_app:hunter2-db@db.internal:5432/essays';

/**
 * A check that counts its calls and answers after `delayMs` (never, when
 * `hangs`): down with `downReason`, by throwing `fails`, or up.
 */
function countingCheck(
  name: string,
  behaviour: {
    delayMs?: number;
    hangs?: boolean;
    fails?: string;
    downReason?: string;
    required?: boolean;
    timeoutMs?: number;
  } = {},
): DependencyCheck & { calls: number; signals: AbortSignal[] } {
  const check = {
    name,
    required: behaviour.required,
    timeoutMs: behaviour.timeoutMs,
    calls: 0,
    signals: [] as AbortSignal[],
    check: async (signal: AbortSignal): Promise<CheckVerdict> => {
      check.calls += 1;
      check.signals.push(signal);
      if (behaviour.hangs) return new Promise<never>(() => undefined);
      if (behaviour.delayMs) await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
      if (behaviour.fails) throw new Error(behaviour.fails);
      if (behaviour.downReason) return { up: false, reason: behaviour.downReason };
      return { up: true, details: { version: '15.2' } };
    },
  };
  return check;
}

let module: TestingModule | undefined;

/** ReadinessService in a module of its own, compiled (constructed) but not yet initialized. */
async function compile(
  options: HealthOptions,
  settings: Partial<BaseServiceConfig> = {},
): Promise<{ module: TestingModule; readiness: ReadinessService }> {
  const config = Object.assign(new BaseServiceConfig(), {
    SERVICE_NAME: 'unit-service',
    SERVICE_VERSION: '1.2.3',
    DATABASE_URL,
    ...settings,
  });
  module = await Test.createTestingModule({
    providers: [
      ReadinessService,
      HealthIndicatorService,
      { provide: HEALTH_OPTIONS, useValue: options },
      { provide: SERVICE_CONFIG, useValue: config },
    ],
  }).compile();
  return { module, readiness: module.get(ReadinessService) };
}

/** ReadinessService after the app's bootstrap (onModuleInit, onApplicationBootstrap). */
async function started(options: HealthOptions): Promise<ReadinessService> {
  const { module: compiled, readiness } = await compile(options);
  await compiled.init();
  return readiness;
}

afterEach(async () => {
  await module?.close();
  module = undefined;
});

describe('ReadinessService', () => {
  describe('lifecycle', () => {
    it('fails with reason "starting" before the app has bootstrapped, even with every check up', async () => {
      const database = countingCheck('database');
      const { module: compiled, readiness } = await compile({ checks: [database] });

      expect(readiness.hasStarted).toBe(false);
      const before = await readiness.report();
      await compiled.init();
      const after = await readiness.report();

      expect(before).toMatchObject({ status: 'fail', reason: 'starting' });
      expect(readiness.hasStarted).toBe(true);
      expect(after.status).toBe('pass');
      expect(after).not.toHaveProperty('reason');
    });

    it('fails with reason "shutting down" once markShuttingDown() is called, with every check up', async () => {
      const readiness = await started({ checks: [countingCheck('database')] });

      readiness.markShuttingDown();
      const report = await readiness.report();

      expect(readiness.isShuttingDown).toBe(true);
      expect(report).toMatchObject({
        status: 'fail',
        reason: 'shutting down',
        checks: { database: { status: 'up' } },
      });
    });

    it('marks itself shutting down when the module is destroyed (app.close())', async () => {
      const { module: compiled, readiness } = await compile({});
      await compiled.init();

      await compiled.close();
      module = undefined;

      expect(readiness.isShuttingDown).toBe(true);
    });

    it('registers no automatic check when the app has no DataSource, Redis or bus', async () => {
      const readiness = await started({});

      const report = await readiness.report();

      expect(readiness.checkNames).toEqual([]);
      expect(report).toEqual({
        status: 'pass',
        service: 'unit-service',
        version: '1.2.3',
        checks: {},
      });
    });
  });

  describe('verdicts', () => {
    it('passes with every check up, each with status, required, response time and its details', async () => {
      const readiness = await started({
        checks: [countingCheck('database'), countingCheck('broker')],
      });

      const report = await readiness.report();

      expect(report).toEqual({
        status: 'pass',
        service: 'unit-service',
        version: '1.2.3',
        checks: {
          database: {
            status: 'up',
            required: true,
            responseTimeMs: expect.any(Number) as unknown,
            version: '15.2',
          },
          broker: {
            status: 'up',
            required: true,
            responseTimeMs: expect.any(Number) as unknown,
            version: '15.2',
          },
        },
      });
    });

    it('fails when a required check answers down, with its reason sanitized of the secret URLs', async () => {
      const readiness = await started({
        checks: [
          countingCheck('payments-queue', { downReason: 'queue full on db.internal:5432' }),
          countingCheck('broker'),
        ],
      });

      const report = await readiness.report();

      expect(report.status).toBe('fail');
      expect(report.checks['payments-queue']).toEqual({
        status: 'down',
        required: true,
        responseTimeMs: expect.any(Number) as unknown,
        error: 'queue full on ***',
      });
      expect(report.checks.broker?.status).toBe('up');
    });

    it('fails when a required check throws, with its error sanitized of the secret URLs', async () => {
      const readiness = await started({
        checks: [
          countingCheck('database', {
            fails: 'connect ECONNREFUSED db.internal:5432 as essay_app/hunter2-db',
          }),
          countingCheck('broker'),
        ],
      });

      const report = await readiness.report();

      expect(report.status).toBe('fail');
      expect(report.checks.database).toEqual({
        status: 'down',
        required: true,
        responseTimeMs: expect.any(Number) as unknown,
        error: 'connect ECONNREFUSED *** as ***/***',
      });
      expect(report.checks.broker?.status).toBe('up');
    });

    it('hides every Kafka bootstrap broker, not only the first', async () => {
      const { module: compiled, readiness } = await compile(
        { checks: [countingCheck('broker', { fails: 'getaddrinfo ENOTFOUND kafka-2.internal' })] },
        { KAFKA_BOOTSTRAP_SERVERS: 'kafka-1.internal:9092, kafka-2.internal:9092' },
      );
      await compiled.init();

      const report = await readiness.report();

      expect(report.checks.broker?.error).toBe('getaddrinfo ENOTFOUND ***');
    });

    it('warns (200) with an optional check down, reporting it degraded', async () => {
      const readiness = await started({
        checks: [
          countingCheck('database'),
          countingCheck('language-tool', { fails: 'answered 502', required: false }),
        ],
      });

      const report = await readiness.report();

      expect(report.status).toBe('warn');
      expect(report.checks['language-tool']).toMatchObject({
        status: 'degraded',
        required: false,
        error: 'answered 502',
      });
    });

    it('applies optionalChecks to automatic checks only by name; a custom check keeps its own required flag', async () => {
      const readiness = await started({
        optionalChecks: ['redis'],
        checks: [countingCheck('search', { fails: 'down' })],
      });

      const report = await readiness.report();

      expect(report.status).toBe('fail');
      expect(report.checks.search).toMatchObject({ status: 'down', required: true });
    });

    it('lets a later check replace a same-named one', async () => {
      const first = countingCheck('database', { fails: 'old' });
      const second = countingCheck('database');
      const readiness = await started({ checks: [first] });

      readiness.register(second);
      const report = await readiness.report();

      expect(readiness.checkNames).toEqual(['database']);
      expect(report.status).toBe('pass');
      expect(first.calls).toBe(0);
    });

    it('reports a check that throws synchronously as down instead of failing the whole report', async () => {
      const readiness = await started({
        checks: [
          {
            name: 'search',
            check: () => {
              throw new TypeError('index is not a function');
            },
          },
          countingCheck('database'),
        ],
      });

      const report = await readiness.report();

      expect(report.status).toBe('fail');
      expect(report.checks.search).toMatchObject({
        status: 'down',
        error: 'index is not a function',
      });
      expect(report.checks.database?.status).toBe('up');
    });

    it('reports a wrapped terminus indicator that is down with its message', async () => {
      const indicators = new HealthIndicatorService();
      const readiness = await started({
        checks: [
          fromTerminusIndicator('api', () =>
            indicators.check('api').down({ message: 'api answered 503' }),
          ),
        ],
      });

      const report = await readiness.report();

      expect(report.status).toBe('fail');
      expect(report.checks.api).toMatchObject({ status: 'down', error: 'api answered 503' });
    });

    it('reports a wrapped terminus indicator with its details', async () => {
      const indicators = new HealthIndicatorService();
      const readiness = await started({
        checks: [fromTerminusIndicator('api', () => indicators.check('api').up({ build: 42 }))],
      });

      const report = await readiness.report();

      expect(report.status).toBe('pass');
      expect(report.checks.api).toMatchObject({ status: 'up', build: 42 });
    });

    it("ignores details named like the report's own fields instead of failing the whole report", async () => {
      const readiness = await started({
        checks: [
          {
            name: 'search',
            check: () => ({
              up: true,
              details: { status: 'green', responseTime: 3, cachedResponse: true, shards: 5 },
            }),
          },
        ],
      });

      const report = await readiness.report();

      expect(report.status).toBe('pass');
      expect(report.checks.search).toEqual({
        status: 'up',
        required: true,
        responseTimeMs: expect.any(Number) as unknown,
        shards: 5,
      });
    });
  });

  describe('timeouts', () => {
    it('counts a hanging check as down at its timeout and aborts its signal', async () => {
      const hanging = countingCheck('database', { hangs: true });
      const readiness = await started({ checkTimeoutMs: 100, cacheTtlMs: 0, checks: [hanging] });

      const startedAt = performance.now();
      const report = await readiness.report();
      const elapsedMs = performance.now() - startedAt;

      expect(report.status).toBe('fail');
      expect(report.checks.database).toMatchObject({
        status: 'down',
        error: 'timeout of 100ms exceeded',
      });
      expect(elapsedMs).toBeGreaterThanOrEqual(95);
      expect(elapsedMs).toBeLessThan(100 + 150);
      expect(hanging.signals[0]?.aborted).toBe(true);
    });

    it('runs checks in parallel: two hanging checks cost one timeout, not two', async () => {
      const readiness = await started({
        checkTimeoutMs: 100,
        cacheTtlMs: 0,
        checks: [
          countingCheck('database', { hangs: true }),
          countingCheck('redis', { hangs: true }),
        ],
      });

      const startedAt = performance.now();
      const report = await readiness.report();
      const elapsedMs = performance.now() - startedAt;

      expect(Object.values(report.checks).map((check) => check.status)).toEqual(['down', 'down']);
      expect(elapsedMs).toBeLessThan(100 + 150);
    });

    it("uses a check's own timeoutMs over checkTimeoutMs", async () => {
      const readiness = await started({
        checkTimeoutMs: 5_000,
        cacheTtlMs: 0,
        checks: [countingCheck('slow-api', { hangs: true, timeoutMs: 50 })],
      });

      const report = await readiness.report();

      expect(report.checks['slow-api']?.error).toBe('timeout of 50ms exceeded');
    });
  });

  describe('caching and single flight', () => {
    it('shares one run among 200 concurrent reports', async () => {
      const database = countingCheck('database', { delayMs: 30 });
      const readiness = await started({ cacheTtlMs: 1_000, checks: [database] });

      const reports = await Promise.all(Array.from({ length: 200 }, () => readiness.report()));

      expect(database.calls).toBe(1);
      expect(new Set(reports.map((report) => report.status))).toEqual(new Set(['pass']));
    });

    it('serves a fresh result from the cache, marked cached, then runs again once it expires', async () => {
      const database = countingCheck('database');
      const readiness = await started({ cacheTtlMs: 100, checks: [database] });

      const first = await readiness.report();
      const second = await readiness.report();
      await new Promise((resolve) => setTimeout(resolve, 130));
      const third = await readiness.report();

      expect(first.checks.database).not.toHaveProperty('cached');
      expect(second.checks.database).toMatchObject({ status: 'up', cached: true });
      expect(third.checks.database).not.toHaveProperty('cached');
      expect(database.calls).toBe(2);
    });

    it('caches a failure too, so a storm during an outage still costs one query', async () => {
      const database = countingCheck('database', { fails: 'connect ECONNREFUSED' });
      const readiness = await started({ cacheTtlMs: 1_000, checks: [database] });

      await readiness.report();
      const reports = await Promise.all(Array.from({ length: 50 }, () => readiness.report()));

      expect(database.calls).toBe(1);
      expect(reports.every((report) => report.status === 'fail')).toBe(true);
    });

    it('shares one hanging run among concurrent reports, all answered at the timeout', async () => {
      const hanging = countingCheck('database', { hangs: true });
      const readiness = await started({
        checkTimeoutMs: 100,
        cacheTtlMs: 1_000,
        checks: [hanging],
      });

      const startedAt = performance.now();
      const reports = await Promise.all(Array.from({ length: 50 }, () => readiness.report()));
      const elapsedMs = performance.now() - startedAt;

      expect(hanging.calls).toBe(1);
      expect(reports.every((report) => report.checks.database?.status === 'down')).toBe(true);
      expect(elapsedMs).toBeLessThan(100 + 150);
    });

    it('runs every check on every report with cacheTtlMs 0', async () => {
      const database = countingCheck('database');
      const readiness = await started({ cacheTtlMs: 0, checks: [database] });

      await Promise.all(Array.from({ length: 5 }, () => readiness.report()));

      expect(database.calls).toBe(5);
    });
  });
});
