import type { Type } from '@nestjs/common';
import type { HelmetOptions } from 'helmet';
import type { ApiKeyGuard } from './api-key.guard.js';

/** CORS: the allowlist itself is `CORS_ORIGINS`; these shape the answers. */
export interface CorsOptions {
  /**
   * Send `Access-Control-Allow-Credentials: true` to allowed origins, so
   * browsers include cookies and read the answer. Origins are always exact
   * (CORS_ORIGINS accepts no wildcard), as credentials require.
   * @default false
   */
  credentials?: boolean;
  /**
   * How long a browser may cache a preflight answer, in seconds
   * (`Access-Control-Max-Age`; Chromium caps it at 7200).
   * @default 600
   */
  maxAgeSeconds?: number;
  /**
   * Methods a preflight allows.
   * @default ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']
   */
  methods?: string[];
  /**
   * Request headers a preflight allows, besides the API-key header,
   * `X-Correlation-ID` and `Content-Type`, which are always allowed.
   * @default []
   */
  allowedHeaders?: string[];
  /**
   * Response headers scripts may read, besides `X-Correlation-ID`, which is
   * always exposed.
   * @default ['Location', 'Retry-After']
   */
  exposedHeaders?: string[];
}

/** `Strict-Transport-Security` (RFC 6797). */
export interface HstsOptions {
  /** @default 15552000 (180 days) */
  maxAgeSeconds?: number;
  /** @default true */
  includeSubDomains?: boolean;
  /** Only with a submission to the browsers' preload list. @default false */
  preload?: boolean;
}

/** The security headers, set by helmet on every response, errors included. */
export interface SecurityHeadersOptions {
  /**
   * The `Content-Security-Policy`; a JSON API loads nothing and is framed by
   * nothing. `false` sends none.
   * @default "default-src 'none'; frame-ancestors 'none'"
   */
  contentSecurityPolicy?: string | false;
  /**
   * `Strict-Transport-Security`; browsers ignore it over plain HTTP, so it is
   * on by default for when TLS ends in front of the service. `false` sends none.
   * @default { maxAgeSeconds: 15552000, includeSubDomains: true, preload: false }
   */
  hsts?: HstsOptions | false;
  /**
   * More helmet options, applied over the library's (see helmet's README).
   * @default {}
   */
  helmet?: HelmetOptions;
}

/** Options of SecurityModule. Keys, the key header and origins come from the config. */
export interface SecurityOptions {
  /**
   * Keys accepted at the metrics path instead of API_KEYS, in the same form
   * (plain or `sha256:<hex>`). Empty: /metrics is public, like the probes.
   * @default []
   */
  metricsApiKeys?: string[];
  /**
   * Paths served without an API key, matched against the route template.
   * @default the probe paths and the metrics path (/livez, /readyz, /healthz, /startupz, /metrics)
   */
  publicPaths?: string[];
  /** The metrics exposition path, guarded by `metricsApiKeys` when they are set. @default '/metrics' */
  metricsPath?: string;
  /**
   * Failed authentications one address may make in `failureWindowMs`; the
   * ones after that are refused with 429 until the window closes.
   * @default 10
   */
  maxAuthFailures?: number;
  /** The window of `maxAuthFailures`, in milliseconds, opened by the first failure. @default 60000 */
  failureWindowMs?: number;
  /**
   * Addresses whose failures are tracked in memory (without Redis) at most;
   * past it the oldest windows are dropped.
   * @default 10000
   */
  maxTrackedAddresses?: number;
  /**
   * Prefix of the Redis keys that count failures; replicas of one service
   * must share it. Only used when REDIS_URL is set.
   * @default 'auth-failures:<SERVICE_NAME>:'
   */
  redisKeyPrefix?: string;
  /**
   * How long a request waits for Redis's failure count, in milliseconds.
   * Past it, or while Redis fails, the guard decides on the counts kept in
   * this process (fail open to them, not closed): a valid key is served, an
   * address over the limit here is still refused, and Redis is asked again
   * a second later. Only used when REDIS_URL is set.
   * @default 50
   */
  redisLookupTimeoutMs?: number;
  /** CORS answers; `false` leaves CORS to the app. @default {} */
  cors?: CorsOptions | false;
  /** Security headers; `false` sends none. @default {} */
  headers?: SecurityHeadersOptions | false;
  /**
   * The guard class: a subclass of ApiKeyGuard overriding `getTracker()` or
   * `getPresentedKey()`. It serves as APP_GUARD and in the Fastify onRequest
   * hooks; its constructor's dependencies are resolved from SecurityModule,
   * which sees the library's providers and the app's global ones.
   * @default ApiKeyGuard
   */
  apiKeyGuard?: Type<ApiKeyGuard>;
}

export const DEFAULT_CORS_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
export const DEFAULT_EXPOSED_HEADERS = ['Location', 'Retry-After'];
export const DEFAULT_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";
export const DEFAULT_HSTS: Required<HstsOptions> = {
  maxAgeSeconds: 15_552_000,
  includeSubDomains: true,
  preload: false,
};
export const DEFAULT_PUBLIC_PATHS = ['/livez', '/readyz', '/healthz', '/startupz', '/metrics'];

export interface ResolvedSecurityOptions {
  metricsApiKeys: readonly string[];
  publicPaths: ReadonlySet<string>;
  metricsPath: string;
  maxAuthFailures: number;
  failureWindowMs: number;
  maxTrackedAddresses: number;
  redisKeyPrefix: string | undefined;
  redisLookupTimeoutMs: number;
  cors: Required<CorsOptions> | false;
  headers:
    | {
        contentSecurityPolicy: string | false;
        hsts: Required<HstsOptions> | false;
        helmet: HelmetOptions;
      }
    | false;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`SecurityOptions.${name} must be a positive integer (got ${value}).`);
  }
  return value;
}

/** Applies the defaults and checks the numbers; throws for a bad option. */
export function resolveSecurityOptions(options: SecurityOptions = {}): ResolvedSecurityOptions {
  const { cors = {}, headers = {} } = options;
  return {
    metricsApiKeys: options.metricsApiKeys ?? [],
    publicPaths: new Set(options.publicPaths ?? DEFAULT_PUBLIC_PATHS),
    metricsPath: options.metricsPath ?? '/metrics',
    maxAuthFailures: positiveInteger('maxAuthFailures', options.maxAuthFailures ?? 10),
    failureWindowMs: positiveInteger('failureWindowMs', options.failureWindowMs ?? 60_000),
    maxTrackedAddresses: positiveInteger(
      'maxTrackedAddresses',
      options.maxTrackedAddresses ?? 10_000,
    ),
    redisKeyPrefix: options.redisKeyPrefix,
    redisLookupTimeoutMs: positiveInteger(
      'redisLookupTimeoutMs',
      options.redisLookupTimeoutMs ?? 50,
    ),
    cors: cors && {
      credentials: cors.credentials ?? false,
      maxAgeSeconds: cors.maxAgeSeconds ?? 600,
      methods: (cors.methods ?? DEFAULT_CORS_METHODS).map((method) => method.toUpperCase()),
      allowedHeaders: cors.allowedHeaders ?? [],
      exposedHeaders: cors.exposedHeaders ?? DEFAULT_EXPOSED_HEADERS,
    },
    headers: headers && {
      contentSecurityPolicy: headers.contentSecurityPolicy ?? DEFAULT_CONTENT_SECURITY_POLICY,
      hsts: headers.hsts === false ? false : { ...DEFAULT_HSTS, ...headers.hsts },
      helmet: headers.helmet ?? {},
    },
  };
}
