/** Injection token of OverloadModule's options. */
export const OVERLOAD_OPTIONS = 'NPR_OVERLOAD_OPTIONS';

/**
 * Options of the overload protection. The off switch is also a setting,
 * OVERLOAD_PROTECTION_ENABLED=false.
 */
export interface OverloadOptions {
  /** Shed load when overloaded. @default true */
  enabled?: boolean;
  /**
   * The concurrency limit to start from: high, so a service that has shown
   * no overload sheds nothing (a burst of parallel requests included); the
   * limit comes down within a few windows once latency or the event loop
   * says so. @default 1000
   */
  initialLimit?: number;
  /** The lowest the limit goes. @default 4 */
  minLimit?: number;
  /** The highest the limit goes; `minLimit` = `maxLimit` fixes it. @default 1000 */
  maxLimit?: number;
  /**
   * How far the latency of finished requests may rise above its no-load
   * baseline, as a multiple, before the limit shrinks. @default 2
   */
  latencyTolerance?: number;
  /**
   * The event-loop delay (p99 over a sample window) above which the limit
   * shrinks and the message consumers pause, in milliseconds. @default 100
   */
  maxEventLoopDelayMs?: number;
  /** How often the limit is recomputed, in milliseconds. @default 250 */
  sampleIntervalMs?: number;
  /** The `Retry-After` of a shed request, in seconds. @default 1 */
  retryAfterSeconds?: number;
  /**
   * Exact paths that are never shed, besides the probes and `/metrics`
   * (which never are). Routes can also say so with `@NeverShed()`. @default []
   */
  neverShedPaths?: string[];
  /**
   * The shortest time between two "Shedding load" warnings, in milliseconds:
   * a shed is logged once per interval, with the count, never per request.
   * @default 10000
   */
  logIntervalMs?: number;
}

export const DEFAULT_OVERLOAD_OPTIONS: Readonly<Required<OverloadOptions>> = {
  enabled: true,
  initialLimit: 1000,
  minLimit: 4,
  maxLimit: 1000,
  latencyTolerance: 2,
  maxEventLoopDelayMs: 100,
  sampleIntervalMs: 250,
  retryAfterSeconds: 1,
  neverShedPaths: [],
  logIntervalMs: 10_000,
};

export type ResolvedOverloadOptions = Required<OverloadOptions>;

/** The options with their defaults, checked: a wrong one stops the startup with its name. */
export function resolveOverloadOptions(options: OverloadOptions = {}): ResolvedOverloadOptions {
  const resolved = { ...DEFAULT_OVERLOAD_OPTIONS, ...withoutUndefined(options) };
  if (typeof resolved.enabled !== 'boolean') {
    throw new TypeError(
      `overload.enabled must be true or false (got ${String(resolved.enabled)}).`,
    );
  }
  for (const name of [
    'initialLimit',
    'minLimit',
    'maxLimit',
    'sampleIntervalMs',
    'retryAfterSeconds',
    'logIntervalMs',
    'maxEventLoopDelayMs',
  ] as const) {
    const value = resolved[name];
    if (!Number.isInteger(value) || value < 1) {
      throw new TypeError(`overload.${name} must be a positive integer (got ${String(value)}).`);
    }
  }
  if (resolved.minLimit > resolved.maxLimit) {
    throw new TypeError(
      `overload.minLimit (${resolved.minLimit}) must not be above overload.maxLimit (${resolved.maxLimit}).`,
    );
  }
  if (!(typeof resolved.latencyTolerance === 'number' && resolved.latencyTolerance >= 1)) {
    throw new TypeError(
      `overload.latencyTolerance must be a number of 1 or more (got ${String(resolved.latencyTolerance)}).`,
    );
  }
  if (
    !Array.isArray(resolved.neverShedPaths) ||
    !resolved.neverShedPaths.every((path) => typeof path === 'string' && path.startsWith('/'))
  ) {
    throw new TypeError('overload.neverShedPaths must be a list of paths starting with "/".');
  }
  resolved.initialLimit = Math.min(
    resolved.maxLimit,
    Math.max(resolved.minLimit, resolved.initialLimit),
  );
  return resolved;
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
