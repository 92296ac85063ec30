import { Controller, Get, Res, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ErrorCode, ServiceError } from '../errors/service-error.js';
import { MetricsRegistry } from './metrics-registry.js';

/** GET <path>: the Prometheus exposition. A class per path, made when the module is declared. */
export function createMetricsController(path: string): Type<unknown> {
  @Controller()
  class MetricsController {
    constructor(
      private readonly metrics: MetricsRegistry,
      private readonly adapterHost: HttpAdapterHost,
    ) {}

    @Get(path)
    async scrape(@Res({ passthrough: true }) response: object): Promise<string> {
      if (!this.metrics.isEnabled) {
        throw new ServiceError(
          ErrorCode.NOT_FOUND,
          'Metrics are disabled (METRICS_ENABLED=false).',
        );
      }
      const { contentType, body } = await this.metrics.exposition();
      this.adapterHost.httpAdapter.setHeader(response, 'content-type', contentType);
      return body;
    }
  }
  return MetricsController;
}
