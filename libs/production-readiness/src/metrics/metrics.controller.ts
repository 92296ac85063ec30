import { Controller, Get, Req, Res, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ErrorCode, ServiceError } from '../errors/service-error.js';
import { formatFor } from './exposition.js';
import { MetricsRegistry } from './metrics-registry.js';

/**
 * GET <path>: the exposition, in OpenMetrics when the scraper asks for it.
 * A class per app module declaration; @willsoto/nestjs-prometheus gives it its path.
 */
export function createMetricsController(): Type<unknown> {
  @Controller()
  class MetricsController {
    constructor(
      private readonly metrics: MetricsRegistry,
      private readonly adapterHost: HttpAdapterHost,
    ) {}

    @Get()
    async scrape(
      @Req() request: { headers: Record<string, string | string[] | undefined> },
      @Res({ passthrough: true }) response: object,
    ): Promise<string> {
      if (!this.metrics.isServedOnAppPort) {
        throw new ServiceError(
          ErrorCode.NOT_FOUND,
          this.metrics.isEnabled
            ? 'Metrics are served on their own port (METRICS_PORT).'
            : 'Metrics are disabled (METRICS_ENABLED=false).',
        );
      }
      const accept = request.headers.accept;
      const { contentType, body } = await this.metrics.exposition(
        formatFor(Array.isArray(accept) ? accept.join(',') : accept),
      );
      this.adapterHost.httpAdapter.setHeader(response, 'content-type', contentType);
      return body;
    }
  }
  return MetricsController;
}
