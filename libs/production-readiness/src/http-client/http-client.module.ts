import { Module, type DynamicModule } from '@nestjs/common';
import { HttpClient } from './http-client.service.js';
import {
  HttpClientModuleClass,
  HTTP_CLIENT_OPTIONS_TYPE,
} from './http-client.module-definition.js';

/**
 * The pooled outbound HTTP client (HttpClient), each origin under its
 * resilience policy when ResilienceModule is imported too.
 */
@Module({ providers: [HttpClient], exports: [HttpClient] })
export class HttpClientModule extends HttpClientModuleClass {
  /** The module with its options; every one has a default, so `forRoot()` is enough. */
  static forRoot(options: typeof HTTP_CLIENT_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
