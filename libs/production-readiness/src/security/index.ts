export { ApiKeyGuard, type AuthFailureReason, type GuardedRequest } from './api-key.guard.js';
export { apiKeyIdOf, ApiKeySet } from './api-key-set.js';
export { AuthFailureStore, type FailureWindow } from './auth-failure-store.js';
export { CorsPolicy, type CorsDecision, type CorsRequest } from './cors-policy.js';
export { MemoryAuthFailureStore } from './memory-auth-failure-store.js';
export { IS_PUBLIC_KEY, Public } from './public.decorator.js';
export { RedisAuthFailureStore } from './redis-auth-failure-store.js';
export { SecurityModule } from './security.module.js';
export { SECURITY_OPTIONS } from './security.module-definition.js';
export { SecurityPolicy } from './security-policy.js';
export {
  DEFAULT_CONTENT_SECURITY_POLICY,
  DEFAULT_CORS_METHODS,
  DEFAULT_EXPOSED_HEADERS,
  DEFAULT_HSTS,
  DEFAULT_PUBLIC_PATHS,
  type CorsOptions,
  type HstsOptions,
  type SecurityHeadersOptions,
  type SecurityOptions,
} from './security.options.js';
