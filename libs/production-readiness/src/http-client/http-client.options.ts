/** Injection token of HttpClientModule's options. */
export const HTTP_CLIENT_OPTIONS = 'HTTP_CLIENT_OPTIONS';

/** How the client talks to one origin (`http://language-tool:8010`). */
export interface HttpOriginOptions {
  /**
   * The resilience policy every request to the origin runs under (declared in
   * `resilience.policies`); `undefined` sends each request once, bounded by
   * the timeouts below only.
   * @default undefined
   */
  policy?: string;
  /** Keep-alive connections the origin's pool opens at most. @default 10 */
  connections?: number;
  /** Requests sent on one connection before the answer (1: no pipelining). @default 1 */
  pipelining?: number;
  /** Opening a connection (TCP and TLS), in ms. @default 2000 */
  connectTimeoutMs?: number;
  /** Waiting for the response headers once the request is sent, in ms. @default 10000 */
  headersTimeoutMs?: number;
  /** Silence allowed between two chunks of the response body, in ms. @default 10000 */
  bodyTimeoutMs?: number;
  /** How long an idle connection is kept, in ms (the server's Keep-Alive hint wins when shorter). @default 4000 */
  keepAliveTimeoutMs?: number;
  /** The largest response body read, in bytes; a larger one fails the request. @default 10485760 */
  maxResponseBytes?: number;
}

/** Options of HttpClientModule. */
export interface HttpClientOptions {
  /** Settings for every origin, over the built-in defaults. @default {} */
  defaults?: HttpOriginOptions;
  /** Settings per origin (`{ 'http://language-tool:8010': { policy: 'language-tool' } }`). @default {} */
  origins?: Record<string, HttpOriginOptions>;
}

export type ResolvedOriginOptions = Required<Omit<HttpOriginOptions, 'policy'>> &
  Pick<HttpOriginOptions, 'policy'>;

export const DEFAULT_ORIGIN_OPTIONS: Required<Omit<HttpOriginOptions, 'policy'>> = {
  connections: 10,
  pipelining: 1,
  connectTimeoutMs: 2_000,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 10_000,
  keepAliveTimeoutMs: 4_000,
  maxResponseBytes: 10 * 1024 * 1024,
};

/** The origin part of a URL as the options key it (`http://host:port`, default ports omitted). */
export function originOf(url: string | URL): string {
  return new URL(url).origin;
}
