import { Inject, Injectable, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { context, propagation } from '@opentelemetry/api';
import { Pool } from 'undici';
import { RequestContext } from '../context/request-context.js';
import { CORRELATION_ID_HEADER } from '../context/correlation-id.js';
import { ErrorCode } from '../errors/error-code.js';
import { isServiceError, ServiceError } from '../errors/service-error.js';
import { MetricsRegistry } from '../metrics/metrics-registry.js';
import { ResiliencePolicies } from '../resilience/resilience-policies.service.js';
import type { AttemptContext } from '../resilience/resilience-pipeline.js';
import { parseRetryAfter } from '../resilience/retry-schedule.js';
import { isTransientError, TRANSIENT_STATUSES } from '../resilience/transient-error.js';
import {
  DEFAULT_ORIGIN_OPTIONS,
  HTTP_CLIENT_OPTIONS,
  originOf,
  type HttpClientOptions,
  type ResolvedOriginOptions,
} from './http-client.options.js';
import { HttpResponse } from './http-response.js';

/** One outbound request. */
export interface HttpRequestOptions {
  /** @default 'GET' */
  method?: string;
  url: string | URL;
  headers?: Record<string, string>;
  /** A raw body; see also `json` and `form`. */
  body?: string | Uint8Array;
  /** A JSON body (sets `content-type: application/json`). */
  json?: unknown;
  /** A form body (sets `content-type: application/x-www-form-urlencoded`). */
  form?: Record<string, string>;
  /** The resilience policy, over the origin's; `false` for none. */
  policy?: string | false;
  /**
   * Whether the request may be sent twice, so its transient failures are
   * retried. @default true for GET, HEAD, OPTIONS, PUT, DELETE (RFC 9110
   * §9.2.2) and for any request with an `Idempotency-Key` header; false otherwise
   */
  idempotent?: boolean;
  signal?: AbortSignal;
}

// RFC 9110 §9.2.2.
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

const neverAborted = new AbortController().signal;

/**
 * The outbound HTTP client: one keep-alive undici Pool per origin, connect,
 * header and body timeouts, the origin's resilience policy around every
 * request, `X-Correlation-ID` and the W3C trace headers (`traceparent`, once
 * a tracing SDK has registered its propagator) on every request, and
 * `http_client_requests_total{host,method,status_code}` with
 * `http_client_request_duration_seconds` per attempt.
 *
 * A 408, 429 or 5xx answer and a failed connection throw a ServiceError
 * (DEPENDENCY_UNAVAILABLE, or TIMEOUT for 504, 408 and timeouts) that a
 * client of the app sees as problem+json 503 or 504; other answers, 4xx
 * included, are returned.
 */
@Injectable()
export class HttpClient implements OnApplicationShutdown {
  private readonly pools = new Map<string, Pool>();
  private readonly record?: (host: string, method: string, status: string, seconds: number) => void;

  constructor(
    @Inject(HTTP_CLIENT_OPTIONS) private readonly options: HttpClientOptions,
    @Optional() private readonly policies?: ResiliencePolicies,
    @Optional() metrics?: MetricsRegistry,
  ) {
    if (metrics) {
      const labelNames = ['host', 'method', 'status_code'] as const;
      const requests = metrics.counter({
        name: 'http_client_requests_total',
        help: 'Outbound HTTP requests (each attempt), by host, method and status code (or error, timeout, cancelled).',
        labelNames,
      });
      const duration = metrics.histogram({
        name: 'http_client_request_duration_seconds',
        help: 'Outbound HTTP request duration (each attempt), until the whole body is read.',
        labelNames,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      });
      this.record = (host, method, status_code, seconds) => {
        requests.inc({ host, method, status_code });
        duration.observe({ host, method, status_code }, seconds);
      };
    }
    for (const [origin, settings] of Object.entries(options.origins ?? {})) {
      if (settings.policy && policies && !policies.has(settings.policy)) {
        throw new Error(
          `HTTP client origin ${origin} names the resilience policy "${settings.policy}", ` +
            'which is not declared in resilience.policies.',
        );
      }
    }
  }

  get(
    url: string | URL,
    options: Omit<HttpRequestOptions, 'url' | 'method'> = {},
  ): Promise<HttpResponse> {
    return this.request({ ...options, url, method: 'GET' });
  }

  post(
    url: string | URL,
    options: Omit<HttpRequestOptions, 'url' | 'method'> = {},
  ): Promise<HttpResponse> {
    return this.request({ ...options, url, method: 'POST' });
  }

  /** Sends the request under its origin's policy; see the class comment for what throws. */
  async request(request: HttpRequestOptions): Promise<HttpResponse> {
    const url = new URL(request.url);
    const origin = originOf(url);
    const settings = this.settingsFor(origin);
    const method = (request.method ?? 'GET').toUpperCase();
    const { headers, body } = this.outbound(request);
    const policy = request.policy === false ? undefined : (request.policy ?? settings.policy);
    const send = ({ signal, attempt }: AttemptContext) =>
      this.send(url, method, headers, body, signal, settings, policy, attempt);
    if (!policy || !this.policies)
      return send({ signal: request.signal ?? neverAborted, attempt: 1 });
    const idempotent =
      request.idempotent ?? (IDEMPOTENT_METHODS.has(method) || 'idempotency-key' in headers);
    return this.policies.execute(policy, send, { idempotent, signal: request.signal });
  }

  async onApplicationShutdown(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(
      pools.map(async (pool) => {
        // close() waits for requests in flight; past a short grace they are cut.
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), 2_000);
        });
        const outcome = await Promise.race([pool.close().catch(() => undefined), grace]);
        clearTimeout(timer);
        if (outcome === 'late') await pool.destroy().catch(() => undefined);
      }),
    );
  }

  private settingsFor(origin: string): ResolvedOriginOptions {
    return {
      ...DEFAULT_ORIGIN_OPTIONS,
      ...this.options.defaults,
      ...this.options.origins?.[origin],
    };
  }

  private poolFor(origin: string, settings: ResolvedOriginOptions): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: settings.connections,
        pipelining: settings.pipelining,
        connect: { timeout: settings.connectTimeoutMs },
        headersTimeout: settings.headersTimeoutMs,
        bodyTimeout: settings.bodyTimeoutMs,
        keepAliveTimeout: settings.keepAliveTimeoutMs,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  private outbound(request: HttpRequestOptions): {
    headers: Record<string, string>;
    body: string | Uint8Array | undefined;
  } {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      headers[name.toLowerCase()] = value;
    }
    let body = request.body;
    if (request.json !== undefined) {
      body = JSON.stringify(request.json);
      headers['content-type'] ??= 'application/json';
    } else if (request.form !== undefined) {
      body = new URLSearchParams(request.form).toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    }
    const correlationId = RequestContext.correlationId;
    if (correlationId && !(CORRELATION_ID_HEADER in headers)) {
      headers[CORRELATION_ID_HEADER] = correlationId;
    }
    // traceparent and tracestate, from the active span; a no-op until a
    // tracing SDK registers its propagator.
    propagation.inject(context.active(), headers);
    return { headers, body };
  }

  private async send(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: string | Uint8Array | undefined,
    signal: AbortSignal,
    settings: ResolvedOriginOptions,
    policy: string | undefined,
    attempt: number,
  ): Promise<HttpResponse> {
    const startedAt = performance.now();
    let status = 'error';
    const dependency = policy ?? 'upstream';
    const details = { host: url.host, method, policy, attempt };
    try {
      const response = await this.poolFor(url.origin, settings).request({
        path: `${url.pathname}${url.search}`,
        method,
        headers,
        body,
        signal,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > settings.maxResponseBytes) {
          response.body.destroy();
          throw new ServiceError(
            ErrorCode.DEPENDENCY_UNAVAILABLE,
            `The ${dependency} dependency answered with more than ${settings.maxResponseBytes} bytes.`,
            { details: { ...details, maxResponseBytes: settings.maxResponseBytes } },
          );
        }
        chunks.push(chunk);
      }
      status = String(response.statusCode);
      const answer = new HttpResponse(response.statusCode, response.headers, Buffer.concat(chunks));
      if (answer.status >= 500 || TRANSIENT_STATUSES.has(answer.status)) {
        throw upstreamStatusError(answer, dependency, details);
      }
      return answer;
    } catch (error) {
      if (isServiceError(error)) throw error;
      if (signal.aborted) {
        status = 'cancelled';
        throw error;
      }
      const code = (error as { code?: unknown }).code;
      const isTimeout = typeof code === 'string' && TIMEOUT_CODES.has(code);
      status = isTimeout ? 'timeout' : 'error';
      throw new ServiceError(
        isTimeout ? ErrorCode.TIMEOUT : ErrorCode.DEPENDENCY_UNAVAILABLE,
        isTimeout
          ? `The ${dependency} dependency did not answer in time.`
          : `The ${dependency} dependency could not be reached.`,
        {
          cause: error,
          details: {
            ...details,
            error: typeof code === 'string' ? code : String(error),
            transient: isTransientError(error),
          },
        },
      );
    } finally {
      this.record?.(url.host, method, status, (performance.now() - startedAt) / 1000);
    }
  }
}

function upstreamStatusError(
  response: HttpResponse,
  dependency: string,
  details: Record<string, unknown>,
): ServiceError {
  const isTimeout = response.status === 504 || response.status === 408;
  const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
  return new ServiceError(
    isTimeout ? ErrorCode.TIMEOUT : ErrorCode.DEPENDENCY_UNAVAILABLE,
    `The ${dependency} dependency answered ${response.status}.`,
    {
      details: {
        ...details,
        upstreamStatus: response.status,
        transient: TRANSIENT_STATUSES.has(response.status),
        ...(retryAfterMs !== undefined && { retryAfterMs }),
      },
    },
  );
}
