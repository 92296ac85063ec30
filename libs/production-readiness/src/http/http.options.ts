import type { ServerLimitsOptions } from './server-limits.js';

/** Injection token of HttpPipelineModule's options. */
export const HTTP_OPTIONS = 'NPR_HTTP_OPTIONS';

/** Options of the HTTP pipeline: bodies and the Node server's limits. */
export interface HttpOptions extends ServerLimitsOptions {
  /**
   * The largest request body accepted, in bytes; a larger one gets 413
   * problem+json at once when its Content-Length says so, or the moment more
   * than this has arrived of a chunked one; either way the connection is
   * closed rather than the rest of the body read.
   * @default 1048576 (1 MiB)
   */
  bodyLimitBytes?: number;
  /**
   * The deepest nesting of arrays and objects accepted in a JSON body (`[]`
   * and `{"a":1}` are one level); a deeper one gets 400 MALFORMED_REQUEST
   * right after parsing, before validation and class-transformer walk it
   * (they recurse, and overflow the stack on thousands of levels).
   * @default 64
   */
  bodyDepthLimit?: number;
  /**
   * Content types accepted besides JSON (`application/json`, `application/*+json`),
   * left to the app's own parsers; any other body gets 415.
   * @default []
   */
  extraBodyTypes?: string[];
  /**
   * Keep the raw JSON body as `request.rawBody` (as Nest's `rawBody` app
   * option does; Express only, Fastify's comes from that option).
   * @default false
   */
  rawBody?: boolean;
}

export const DEFAULT_BODY_LIMIT_BYTES = 1_048_576;
export const DEFAULT_BODY_DEPTH_LIMIT = 64;
