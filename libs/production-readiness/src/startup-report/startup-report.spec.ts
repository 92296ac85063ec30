import { describe, expect, it } from 'vitest';
import { StartupRefusedError } from './startup-refused.error.js';
import { assessStartupRisks, type StartupFacts } from './startup-report.js';

const MIB = 1_048_576;

/** A deployment with nothing to warn about, as the k8s manifests configure it. */
function safeFacts(): StartupFacts {
  return {
    features: {
      metrics: true,
      tracing: false,
      apiKeyCount: 1,
      corsOriginCount: 0,
      messaging: 'nats',
      strictReadiness: true,
    },
    dependencies: [
      {
        name: 'database',
        kind: 'postgres',
        timeoutsMs: { DATABASE_ACQUIRE_TIMEOUT_MS: 5000, DATABASE_STATEMENT_TIMEOUT_MS: 30000 },
      },
      { name: 'redis', kind: 'redis', timeoutsMs: { REDIS_COMMAND_TIMEOUT_MS: 2000 } },
      { name: 'broker', kind: 'nats', timeoutsMs: {} },
    ],
    budgets: {
      drainDelayMs: 5000,
      shutdownTimeoutMs: 25000,
      gracePeriodMs: 30000,
      startupTimeoutMs: 60000,
      healthCheckTimeoutMs: 1000,
    },
    databasePool: { max: 30, serverLimit: 97 },
    memory: { heapLimitBytes: 400 * MIB, containerLimitBytes: 512 * MIB },
  };
}

const codesOf = (facts: StartupFacts) => assessStartupRisks(facts).risks.map((risk) => risk.code);

describe('assessStartupRisks', () => {
  it('finds no risk in a deployment that fits its budgets', () => {
    const report = assessStartupRisks(safeFacts());
    expect(report.risks).toEqual([]);
    expect(report.budgets.gracePeriodMs).toBe(30000);
  });

  it('warns when no API key is configured', () => {
    const facts = safeFacts();
    facts.features.apiKeyCount = 0;
    expect(codesOf(facts)).toEqual(['NO_API_KEYS']);
  });

  it('warns when the drain delay plus the shutdown timeout exceed the grace period', () => {
    const facts = safeFacts();
    facts.budgets.gracePeriodMs = 20000;
    const [risk] = assessStartupRisks(facts).risks;
    expect(risk?.code).toBe('SHUTDOWN_BEYOND_GRACE_PERIOD');
    expect(risk?.message).toContain(
      'drain delay 5000 ms + SHUTDOWN_TIMEOUT_MS 25000 ms = 30000 ms, above the grace period SHUTDOWN_GRACE_PERIOD_MS 20000 ms',
    );
  });

  it('accepts a budget that exactly fills the grace period', () => {
    const facts = safeFacts();
    facts.budgets.gracePeriodMs = 30000;
    expect(codesOf(facts)).toEqual([]);
  });

  it('warns when the pool may open more connections than the database accepts', () => {
    const facts = safeFacts();
    facts.databasePool = { max: 120, serverLimit: 97 };
    const [risk] = assessStartupRisks(facts).risks;
    expect(risk?.code).toBe('POOL_ABOVE_DATABASE_LIMIT');
    expect(risk?.message).toContain('120 connections');
    expect(risk?.message).toContain('the 97 the server accepts');
  });

  it('says nothing of the pool when the server limit is unknown', () => {
    const facts = safeFacts();
    facts.databasePool = { max: 500 };
    expect(codesOf(facts)).toEqual([]);
  });

  it('warns for each dependency with an unbounded timeout, naming the setting', () => {
    const facts = safeFacts();
    facts.dependencies[0].timeoutsMs.DATABASE_STATEMENT_TIMEOUT_MS = 0;
    const [risk] = assessStartupRisks(facts).risks;
    expect(risk?.code).toBe('DEPENDENCY_WITHOUT_TIMEOUT');
    expect(risk?.message).toContain(
      'The database (postgres) has no timeout: DATABASE_STATEMENT_TIMEOUT_MS is 0',
    );
  });

  it('warns when the heap limit is above the container memory limit', () => {
    const facts = safeFacts();
    facts.memory = { heapLimitBytes: 2048 * MIB, containerLimitBytes: 512 * MIB };
    const [risk] = assessStartupRisks(facts).risks;
    expect(risk?.code).toBe('HEAP_ABOVE_CONTAINER_MEMORY');
    expect(risk?.message).toContain('2048 MiB, above the container');
    expect(risk?.message).toContain('512 MiB');
  });

  it('says nothing of the heap outside a memory-limited container', () => {
    const facts = safeFacts();
    facts.memory = { heapLimitBytes: 4096 * MIB };
    expect(codesOf(facts)).toEqual([]);
  });

  it('lists every risk at once in the refusal message', () => {
    const facts = safeFacts();
    facts.features.apiKeyCount = 0;
    facts.budgets.gracePeriodMs = 10000;
    const error = new StartupRefusedError(assessStartupRisks(facts).risks);
    expect(error.message).toMatch(
      /^STRICT_READINESS=true: refusing to start with 2 production-readiness risks/,
    );
    expect(error.message).toContain('  - NO_API_KEYS: API_KEYS is empty');
    expect(error.message).toContain('  - SHUTDOWN_BEYOND_GRACE_PERIOD: The shutdown may be killed');
  });
});
