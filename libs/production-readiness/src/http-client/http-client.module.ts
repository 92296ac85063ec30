import { Module } from '@nestjs/common';
import { HttpClient } from './http-client.service.js';
import { HttpClientModuleClass } from './http-client.module-definition.js';

/**
 * The pooled outbound HTTP client (HttpClient), each origin under its
 * resilience policy when ResilienceModule is imported too.
 */
@Module({ providers: [HttpClient], exports: [HttpClient] })
export class HttpClientModule extends HttpClientModuleClass {}
