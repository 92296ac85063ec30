import type { BaseServiceConfig } from '../config/base-service.config.js';
import { ApiKeySet } from './api-key-set.js';
import { CorsPolicy } from './cors-policy.js';
import { securityHeadersWriter, type SecurityHeadersWriter } from './security-headers.js';
import {
  resolveSecurityOptions,
  type ResolvedSecurityOptions,
  type SecurityOptions,
} from './security.options.js';

/**
 * The security settings of one app, read and checked once at startup from
 * SecurityOptions and the config (API_KEYS, API_KEY_HEADER, CORS_ORIGINS):
 * the key sets as digests, the CORS policy, the header writer. The guard and
 * installSecurity() both read it.
 */
export class SecurityPolicy {
  readonly options: ResolvedSecurityOptions;
  /** The configured header name, as written (`X-API-Key`). */
  readonly apiKeyHeader: string;
  readonly apiKeys: ApiKeySet;
  readonly metricsApiKeys: ApiKeySet;
  /** Undefined when `cors: false`. */
  readonly cors: CorsPolicy | undefined;
  readonly writeHeaders: SecurityHeadersWriter | undefined;
  /** Where failures are counted in Redis. */
  readonly redisKeyPrefix: string;

  constructor(options: SecurityOptions, config: Partial<BaseServiceConfig>) {
    this.options = resolveSecurityOptions(options);
    this.apiKeyHeader = config.API_KEY_HEADER ?? 'X-API-Key';
    this.apiKeys = ApiKeySet.parse(config.API_KEYS ?? []);
    this.metricsApiKeys = ApiKeySet.parse(
      this.options.metricsApiKeys,
      'SecurityOptions.metricsApiKeys',
    );
    const { cors } = this.options;
    this.cors =
      cors === false
        ? undefined
        : new CorsPolicy({
            origins: config.CORS_ORIGINS ?? [],
            credentials: cors.credentials,
            maxAgeSeconds: cors.maxAgeSeconds,
            methods: cors.methods,
            allowedHeaders: unique([
              this.apiKeyHeader,
              'X-Correlation-ID',
              'Content-Type',
              ...cors.allowedHeaders,
            ]),
            exposedHeaders: unique(['X-Correlation-ID', ...cors.exposedHeaders]),
          });
    this.writeHeaders = securityHeadersWriter(this.options.headers);
    this.redisKeyPrefix =
      this.options.redisKeyPrefix ?? `auth-failures:${config.SERVICE_NAME ?? 'service'}:`;
  }

  /** The scheme and header named in `WWW-Authenticate` (RFC 9110 §11.6.1). */
  get challenge(): string {
    return `ApiKey header="${this.apiKeyHeader}"`;
  }
}

// Header names are case-insensitive: keep the first spelling of each.
function unique(names: string[]): string[] {
  const seen = new Set<string>();
  return names.filter((name) => {
    const key = name.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
