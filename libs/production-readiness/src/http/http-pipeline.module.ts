import { ConfigurableModuleBuilder, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { HTTP_OPTIONS, type HttpOptions } from './http.options.js';
import { HttpRequestPipeline } from './http-request-pipeline.js';
import { RouteTable } from './route-table.js';

export const {
  ConfigurableModuleClass: HttpPipelineModuleClass,
  OPTIONS_TYPE: HTTP_PIPELINE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: HTTP_PIPELINE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<HttpOptions>({
  moduleName: 'HttpPipeline',
  optionsInjectionToken: HTTP_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, { isGlobal }) => ({
    ...definition,
    global: isGlobal,
  }))
  .build();

/**
 * The HTTP plumbing the other concerns share: the request entry (correlation
 * id and request context, first on the platform), the pre-routing steps they
 * register, the end-of-response listeners, body parsing with its limit, the
 * server's limits, and the route templates. Imported by each concern module
 * that needs it, so each also works alone.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [HttpRequestPipeline, RouteTable],
  exports: [HttpRequestPipeline, RouteTable],
})
export class HttpPipelineModule extends HttpPipelineModuleClass {}
