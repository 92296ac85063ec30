/** Injection token of HealthModule's options. */
export const HEALTH_OPTIONS = 'HEALTH_OPTIONS';

/**
 * What a check answers: up, with optional details for the report, or down
 * with the reason shown as the check's `error` (sanitized of secret URLs).
 */
export type CheckVerdict =
  { up: true; details?: Record<string, unknown> } | { up: false; reason: string };

/** A dependency the service needs (or would like) to serve traffic. */
export interface DependencyCheck {
  /** Its name in reports: `database`, `redis`, `broker`, `language-tool`. */
  name: string;
  /**
   * A failing required check makes the service unready (503); a failing
   * optional one reports `degraded` and keeps it ready.
   * @default true
   */
  required?: boolean;
  /** This check's own timeout. @default HealthOptions.checkTimeoutMs */
  timeoutMs?: number;
  /**
   * Gives the dependency's verdict. A throw, a rejection or no answer within
   * the timeout also counts as down. The signal aborts at the timeout.
   */
  check(signal: AbortSignal): CheckVerdict | Promise<CheckVerdict>;
}

/** An HTTP dependency checked with a GET; any answer below 500 counts as up. */
export interface HttpDependency {
  name: string;
  url: string;
  /** @default true */
  required?: boolean;
}

/** Options of HealthModule. */
export interface HealthOptions {
  /**
   * How long one dependency check may take before it counts as down, in ms.
   * Keep it below the probe's timeout (Kubernetes: 1 s by default).
   * @default 1000
   */
  checkTimeoutMs?: number;
  /**
   * How long a check's result is reused, in ms: a probe storm causes at most
   * one query per dependency per interval. 0 disables caching.
   * @default 1000
   */
  cacheTtlMs?: number;
  /**
   * Check the dependencies the app has configured (the TypeORM DataSource,
   * Redis, the message broker) without being told.
   * @default true
   */
  autoChecks?: boolean;
  /** Names of automatic checks that are optional (`['redis']`). @default [] */
  optionalChecks?: string[];
  /** More checks, custom terminus-style indicators wrapped by `fromTerminusIndicator()`. @default [] */
  checks?: DependencyCheck[];
  /** HTTP dependencies to GET. @default [] */
  httpDependencies?: HttpDependency[];
  /**
   * Liveness fails when the event loop's 99th-percentile delay since the last
   * probe is above this, in ms.
   * @default 1000
   */
  maxEventLoopDelayMs?: number;
  /**
   * Liveness fails when the heap in use is above this share of the heap limit
   * (`--max-old-space-size`, or what V8 derived from the machine).
   * @default 0.95
   */
  maxHeapUsedRatio?: number;
}

export type ResolvedHealthOptions = Required<HealthOptions>;

export function resolveHealthOptions(options: HealthOptions = {}): ResolvedHealthOptions {
  return {
    checkTimeoutMs: options.checkTimeoutMs ?? 1_000,
    cacheTtlMs: options.cacheTtlMs ?? 1_000,
    autoChecks: options.autoChecks ?? true,
    optionalChecks: options.optionalChecks ?? [],
    checks: options.checks ?? [],
    httpDependencies: options.httpDependencies ?? [],
    maxEventLoopDelayMs: options.maxEventLoopDelayMs ?? 1_000,
    maxHeapUsedRatio: options.maxHeapUsedRatio ?? 0.95,
  };
}

/** The probe endpoints' paths. */
export interface HealthPaths {
  /** @default '/livez' */
  liveness: string;
  /** @default '/readyz' */
  readiness: string;
  /** @default '/healthz' */
  health: string;
  /** @default '/startupz' */
  startup: string;
}

export const DEFAULT_HEALTH_PATHS: HealthPaths = {
  liveness: '/livez',
  readiness: '/readyz',
  health: '/healthz',
  startup: '/startupz',
};
