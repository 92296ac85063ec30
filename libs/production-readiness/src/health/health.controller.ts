import { Controller, Get, Res, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { HEALTH_CONTENT_TYPE, statusCodeOf, type HealthReport } from './health-report.js';
import type { HealthPaths } from './health.options.js';
import { LivenessService } from './liveness.service.js';
import { ReadinessService } from './readiness.service.js';

/**
 * The probe endpoints at the given paths. A class per set of paths, made when
 * the module is declared, so no shared controller metadata is ever mutated.
 */
export function createHealthController(paths: HealthPaths): Type<unknown> {
  @Controller()
  class HealthController {
    constructor(
      private readonly liveness: LivenessService,
      private readonly readiness: ReadinessService,
      private readonly adapterHost: HttpAdapterHost,
    ) {}

    /** The process only; never a dependency. */
    @Get(paths.liveness)
    live(@Res({ passthrough: true }) response: object): HealthReport {
      return this.answer(response, this.liveness.report());
    }

    /** Ready for traffic: started, not shutting down, every required dependency up. */
    @Get(paths.readiness)
    async ready(@Res({ passthrough: true }) response: object): Promise<
      Omit<HealthReport, 'checks'> & {
        checks: Record<string, { status: string }>;
      }
    > {
      const report = await this.readiness.report();
      // The short form: each check's status, without details or errors.
      const checks = Object.fromEntries(
        Object.entries(report.checks).map(([name, check]) => [name, { status: check.status }]),
      );
      return this.answer(response, { ...report, checks });
    }

    /** Every check with its status, response time and (sanitized) error. */
    @Get(paths.health)
    async health(@Res({ passthrough: true }) response: object): Promise<HealthReport> {
      return this.answer(response, await this.readiness.report());
    }

    /** Green once the app has bootstrapped: modules initialized, migrations run. */
    @Get(paths.startup)
    started(@Res({ passthrough: true }) response: object): { status: 'pass' | 'fail' } {
      return this.answer(response, { status: this.readiness.hasStarted ? 'pass' : 'fail' });
    }

    private answer<T extends { status: HealthReport['status'] }>(response: object, report: T): T {
      const adapter = this.adapterHost.httpAdapter;
      adapter.status(response, statusCodeOf(report));
      adapter.setHeader(response, 'content-type', HEALTH_CONTENT_TYPE);
      adapter.setHeader(response, 'cache-control', 'no-store');
      return report;
    }
  }
  return HealthController;
}
