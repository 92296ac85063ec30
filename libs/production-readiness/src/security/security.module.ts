import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { BaseServiceConfig } from '../config/base-service.config.js';
import { RedisConnection } from '../redis/redis-connection.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { ApiKeyRoutes } from './api-key-routes.js';
import { AuthFailureStore } from './auth-failure-store.js';
import { FastifyApiKeyHooks } from './fastify-api-key-hooks.js';
import { MemoryAuthFailureStore } from './memory-auth-failure-store.js';
import { RedisAuthFailureStore } from './redis-auth-failure-store.js';
import { SecurityPolicy } from './security-policy.js';
import { SecurityScreen } from './security-screen.js';
import { SECURITY_OPTIONS, SecurityModuleClass } from './security.module-definition.js';
import type { SecurityOptions } from './security.options.js';

/**
 * API keys (the global ApiKeyGuard, `@Public()`), failed-authentication
 * limits, and what SecurityScreen applies before routing in the HTTP
 * pipeline: the CORS allowlist and the security headers. Keys, their
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
    SecurityScreen,
    FastifyApiKeyHooks,
    // Always global; with no API_KEYS it lets everything through. On Fastify
    // a guarded route's onRequest hook has checked the key already, before
    // the body was read, and the guard sees that (fastify-api-key-hook.ts).
    { provide: APP_GUARD, useExisting: ApiKeyGuard },
  ],
  exports: [SecurityPolicy, AuthFailureStore, ApiKeyGuard, ApiKeyRoutes],
})
export class SecurityModule extends SecurityModuleClass {}
