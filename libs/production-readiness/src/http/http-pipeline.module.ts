import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { HttpRequestPipeline } from './http-request-pipeline.js';
import { RouteTable } from './route-table.js';

/**
 * The HTTP plumbing the other concerns share: the request entry (correlation
 * id and request context, first on the platform), the pre-routing steps they
 * register, the end-of-response listeners, body parsing with its limit, the
 * server's limits, and the route templates. Each concern module that needs
 * it imports this one static module, so an app has one pipeline however many
 * concerns it imports, and each concern also works alone. Its options
 * (HTTP_OPTIONS) are provided by ProductionReadinessModule; alone, the
 * defaults apply.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [HttpRequestPipeline, RouteTable],
  exports: [HttpRequestPipeline, RouteTable],
})
export class HttpPipelineModule {}
