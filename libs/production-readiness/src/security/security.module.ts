import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD, ModuleRef } from '@nestjs/core';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { SERVICE_CONFIG, serviceConfigProvider } from '../config/default-service-config.js';
import { RedisConnection } from '../redis/redis-connection.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { ApiKeyRoutes } from './api-key-routes.js';
import { AuthFailureStore } from './auth-failure-store.js';
import { FastifyApiKeyHooks } from './fastify-api-key-hooks.js';
import { MemoryAuthFailureStore } from './memory-auth-failure-store.js';
import { RedisAuthFailureStore } from './redis-auth-failure-store.js';
import { SecurityPolicy } from './security-policy.js';
import { SecurityScreen } from './security-screen.js';
import {
  SECURITY_OPTIONS,
  SecurityModuleClass,
  SECURITY_OPTIONS_TYPE,
} from './security.module-definition.js';
import type { SecurityOptions } from './security.options.js';
import { HttpPipelineModule } from '../http/http-pipeline.module.js';
import { ProblemResponseModule } from '../errors/problem-response.module.js';

/**
 * API keys (the global ApiKeyGuard, `@Public()`), failed-authentication
 * limits, and what SecurityScreen applies before routing in the HTTP
 * pipeline: the CORS allowlist and the security headers. Keys, their
 * header and the origins come from the config (API_KEYS, API_KEY_HEADER,
 * CORS_ORIGINS); failures are counted in Redis when REDIS_URL is set.
 */
@Module({
  // ProblemResponseModule: its refusals are problems even without ErrorsModule.
  imports: [HttpPipelineModule, ProblemResponseModule],
  providers: [
    serviceConfigProvider,
    {
      provide: SecurityPolicy,
      useFactory: (options: SecurityOptions, config: BaseServiceConfig) =>
        new SecurityPolicy(options, config),
      inject: [SECURITY_OPTIONS, SERVICE_CONFIG],
    },
    {
      provide: AuthFailureStore,
      useFactory: (policy: SecurityPolicy, redis?: RedisConnection) =>
        redis?.client
          ? new RedisAuthFailureStore(
              redis.client,
              policy.redisKeyPrefix,
              policy.options.maxTrackedAddresses,
              policy.options.redisLookupTimeoutMs,
            )
          : new MemoryAuthFailureStore(policy.options.maxTrackedAddresses),
      inject: [SecurityPolicy, { token: RedisConnection, optional: true }],
    },
    {
      provide: ApiKeyGuard,
      // The app's subclass when `apiKeyGuard` names one, built with this
      // module's providers; the Fastify hooks and APP_GUARD share it.
      useFactory: (options: SecurityOptions, moduleRef: ModuleRef) =>
        moduleRef.create(options.apiKeyGuard ?? ApiKeyGuard),
      inject: [SECURITY_OPTIONS, ModuleRef],
    },
    ApiKeyRoutes,
    SecurityScreen,
    FastifyApiKeyHooks,
    // Always global; with no API_KEYS it lets everything through. On Fastify
    // a guarded route's onRequest hook has checked the key already, before
    // the body was read, and the guard sees that (fastify-api-key-hook.ts).
    { provide: APP_GUARD, useExisting: ApiKeyGuard },
  ],
  exports: [SecurityPolicy, AuthFailureStore, ApiKeyGuard, ApiKeyRoutes],
})
export class SecurityModule extends SecurityModuleClass {
  /** The module with its options; every one has a default, so `forRoot()` is enough. */
  static forRoot(options: typeof SECURITY_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
