import { Module } from '@nestjs/common';
import { APP_GUARD, HttpAdapterHost } from '@nestjs/core';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { RedisConnection } from '../redis/redis-connection.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { ApiKeyRoutes } from './api-key-routes.js';
import { AuthFailureStore } from './auth-failure-store.js';
import { checksApiKeysInHooks } from './fastify-api-key-hook.js';
import { MemoryAuthFailureStore } from './memory-auth-failure-store.js';
import { RedisAuthFailureStore } from './redis-auth-failure-store.js';
import { SecurityPolicy } from './security-policy.js';
import { SECURITY_OPTIONS, SecurityModuleClass } from './security.module-definition.js';
import type { SecurityOptions } from './security.options.js';

/**
 * API keys (the global ApiKeyGuard, `@Public()`), failed-authentication
 * limits, and the policy createServiceApp()'s installSecurity() applies
 * before routing: the CORS allowlist and the security headers. Keys, their
 * header and the origins come from the config (API_KEYS, API_KEY_HEADER,
 * CORS_ORIGINS); failures are counted in Redis when REDIS_URL is set.
 */
@Module({
  providers: [
    {
      provide: SecurityPolicy,
      useFactory: (options: SecurityOptions, config: BaseServiceConfig) =>
        new SecurityPolicy(options, config),
      inject: [SECURITY_OPTIONS, BaseServiceConfig],
    },
    {
      provide: AuthFailureStore,
      useFactory: (policy: SecurityPolicy, redis?: RedisConnection) =>
        redis?.client
          ? new RedisAuthFailureStore(
              redis.client,
              policy.redisKeyPrefix,
              policy.options.maxTrackedAddresses,
            )
          : new MemoryAuthFailureStore(policy.options.maxTrackedAddresses),
      inject: [SecurityPolicy, { token: RedisConnection, optional: true }],
    },
    ApiKeyGuard,
    ApiKeyRoutes,
    // Global unless the app checks keys in Fastify route hooks instead (a
    // Fastify app made by createServiceApp()); with no API_KEYS it lets
    // everything through. A factory that gives nothing registers no guard.
    {
      provide: APP_GUARD,
      useFactory: (guard: ApiKeyGuard, routes: ApiKeyRoutes, host: HttpAdapterHost) =>
        checksApiKeysInHooks(host.httpAdapter, routes) ? null : guard,
      inject: [ApiKeyGuard, ApiKeyRoutes, HttpAdapterHost],
    },
  ],
  exports: [SecurityPolicy, AuthFailureStore, ApiKeyGuard, ApiKeyRoutes],
})
export class SecurityModule extends SecurityModuleClass {}
