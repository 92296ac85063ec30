/** One check's state in a health report. */
export interface CheckReport {
  status: 'up' | 'degraded' | 'down';
  required: boolean;
  responseTimeMs: number;
  /** Why it is down (sanitized), when it is. */
  error?: string;
  /** Served from the cache of a recent probe. */
  cached?: boolean;
  [detail: string]: unknown;
}

/**
 * A health report, after the IETF health-check draft: `pass` and `warn`
 * answer 200, `fail` answers 503.
 */
export interface HealthReport {
  status: 'pass' | 'warn' | 'fail';
  service: string;
  version: string;
  /** Why the whole service fails, besides its checks: `starting`, `shutting down`. */
  reason?: string;
  checks: Record<string, CheckReport>;
}

export const HEALTH_CONTENT_TYPE = 'application/health+json';

export function statusCodeOf(report: Pick<HealthReport, 'status'>): number {
  return report.status === 'fail' ? 503 : 200;
}
