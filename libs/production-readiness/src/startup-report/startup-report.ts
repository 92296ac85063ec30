/** The kinds of risk the startup report warns about (and STRICT_READINESS refuses). */
export type StartupRiskCode =
  | 'NO_API_KEYS'
  | 'SHUTDOWN_BEYOND_GRACE_PERIOD'
  | 'POOL_ABOVE_DATABASE_LIMIT'
  | 'DEPENDENCY_WITHOUT_TIMEOUT'
  | 'HEAP_ABOVE_CONTAINER_MEMORY';

/** One risk found at startup: a stable code and a message that says how to fix it. */
export interface StartupRisk {
  code: StartupRiskCode;
  message: string;
}

/** A dependency the service is configured to use, with its timeouts in ms (0: none). */
export interface ConfiguredDependency {
  /** `database`, `redis`, `broker`... */
  name: string;
  /** `postgres`, `sqlite`, `redis`, `nats`, `in-process`... */
  kind: string;
  /** Each timeout that bounds a call to it, by setting name; 0 means unbounded. */
  timeoutsMs: Record<string, number>;
}

/** What the startup report is made of: read from the config and the running app. */
export interface StartupFacts {
  features: {
    metrics: boolean;
    metricsPort?: number;
    tracing: boolean;
    /** Named as a count: the logger redacts fields named like API keys. */
    apiKeyCount: number;
    corsOriginCount: number;
    messaging?: string;
    strictReadiness: boolean;
  };
  dependencies: ConfiguredDependency[];
  budgets: {
    drainDelayMs: number;
    shutdownTimeoutMs: number;
    gracePeriodMs: number;
    startupTimeoutMs: number;
    healthCheckTimeoutMs: number;
  };
  /** The database pool against the server's limit, when both are known. */
  databasePool?: { max: number; serverLimit?: number };
  memory: { heapLimitBytes: number; containerLimitBytes?: number };
}

/** The startup report: the facts, and the risks found in them. */
export interface StartupReport extends StartupFacts {
  risks: StartupRisk[];
}

const mib = (bytes: number) => `${Math.round(bytes / 1_048_576)} MiB`;

/** Finds the risks in `facts`; pure, so every rule is unit-tested. */
export function assessStartupRisks(facts: StartupFacts): StartupReport {
  const risks: StartupRisk[] = [];
  const { budgets, memory, databasePool } = facts;

  if (facts.features.apiKeyCount === 0) {
    risks.push({
      code: 'NO_API_KEYS',
      message:
        'API_KEYS is empty: every route is open to anyone who can reach the service. ' +
        'Set API_KEYS (plain keys or sha256:<hex>), or put the service behind an authenticating gateway.',
    });
  }

  const shutdownNeedsMs = budgets.drainDelayMs + budgets.shutdownTimeoutMs;
  if (shutdownNeedsMs > budgets.gracePeriodMs) {
    // The wording is the one GracefulShutdown used to log: operators grep for it.
    risks.push({
      code: 'SHUTDOWN_BEYOND_GRACE_PERIOD',
      message:
        `The shutdown may be killed before it ends: drain delay ${budgets.drainDelayMs} ms + ` +
        `SHUTDOWN_TIMEOUT_MS ${budgets.shutdownTimeoutMs} ms = ${shutdownNeedsMs} ms, above the grace period ` +
        `SHUTDOWN_GRACE_PERIOD_MS ${budgets.gracePeriodMs} ms. Raise terminationGracePeriodSeconds ` +
        `(and SHUTDOWN_GRACE_PERIOD_MS) or lower the budgets.`,
    });
  }

  if (databasePool?.serverLimit !== undefined && databasePool.max > databasePool.serverLimit) {
    risks.push({
      code: 'POOL_ABOVE_DATABASE_LIMIT',
      message:
        `The database pool may open ${databasePool.max} connections ` +
        `(DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW), more than the ${databasePool.serverLimit} ` +
        'the server accepts (max_connections less superuser_reserved_connections), before counting ' +
        'other replicas. Lower the pool or raise max_connections (or add a pooler such as PgBouncer).',
    });
  }

  for (const dependency of facts.dependencies) {
    const unbounded = Object.entries(dependency.timeoutsMs)
      .filter(([, ms]) => ms <= 0)
      .map(([setting]) => setting);
    if (unbounded.length > 0) {
      risks.push({
        code: 'DEPENDENCY_WITHOUT_TIMEOUT',
        message:
          `The ${dependency.name} (${dependency.kind}) has no timeout: ${unbounded.join(', ')} ` +
          `${unbounded.length === 1 ? 'is' : 'are'} 0, so one stuck call holds a request (and a ` +
          'connection) forever. Set a limit in milliseconds.',
      });
    }
  }

  if (
    memory.containerLimitBytes !== undefined &&
    memory.heapLimitBytes > memory.containerLimitBytes
  ) {
    risks.push({
      code: 'HEAP_ABOVE_CONTAINER_MEMORY',
      message:
        `The V8 heap may grow to ${mib(memory.heapLimitBytes)}, above the container's memory ` +
        `limit of ${mib(memory.containerLimitBytes)}: the kernel kills the process (OOMKilled) ` +
        'before V8 collects garbage hard. Set NODE_OPTIONS=--max-old-space-size to about 75% ' +
        'of the limit, in MiB (the Docker image does so when NODE_OPTIONS is unset).',
    });
  }

  return { ...facts, risks };
}
