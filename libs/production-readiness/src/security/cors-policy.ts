/** What CorsPolicy needs to know of a request. */
export interface CorsRequest {
  method: string;
  /** The `Origin` header, if any. */
  origin: string | undefined;
  /** The `Host` header, to recognise a browser's same-origin request. */
  host: string | undefined;
  /** The `Access-Control-Request-Method` header: present only on a preflight. */
  requestMethod: string | undefined;
}

/** What to do with a request, and the headers to answer with. */
export type CorsDecision =
  /** No Origin, or the service's own: not a cross-origin request. */
  | { kind: 'same-origin' }
  /** An origin outside the allowlist: refuse with 403. */
  | { kind: 'refused'; origin: string }
  /** An allowed preflight: answer 204 with these headers, nothing else runs. */
  | { kind: 'preflight'; headers: Record<string, string> }
  /** An allowed request: add these headers and go on. */
  | { kind: 'allowed'; headers: Record<string, string> };

export interface CorsPolicySettings {
  /** Exact origins, `https://app.example.com`. */
  origins: readonly string[];
  credentials: boolean;
  maxAgeSeconds: number;
  methods: readonly string[];
  /** Request headers a preflight allows. */
  allowedHeaders: readonly string[];
  /** Response headers scripts may read. */
  exposedHeaders: readonly string[];
}

// The serialization of an origin (RFC 6454 §6.2) is lower-case scheme and
// host with the port only when it is not the default; URL gives exactly that.
function normalizeOrigin(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    return url.origin === 'null' ? undefined : url.origin;
  } catch {
    return undefined;
  }
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

const SAME_ORIGIN: CorsDecision = { kind: 'same-origin' };

/**
 * The CORS allowlist as a pure decision (Fetch standard, "CORS protocol"):
 * an allowed origin gets its exact value back in
 * `Access-Control-Allow-Origin`, never `*`; a preflight is answered with the
 * methods, the headers and a max age; a request from any other origin is
 * refused rather than merely left without CORS headers. A browser's
 * same-origin request (its Origin's host is the Host it asked) and a request
 * without Origin (servers, curl) are not CORS and pass.
 */
export class CorsPolicy {
  private readonly origins: ReadonlySet<string>;
  private readonly preflightHeaders: Readonly<Record<string, string>>;
  private readonly allowedHeaders: Readonly<Record<string, string>>;
  // The answers for each allowed origin in its serialized form, which is
  // what browsers send: the common case costs a map lookup, no URL parsing.
  private readonly allowedAnswers = new Map<string, CorsDecision>();
  private readonly preflightAnswers = new Map<string, CorsDecision>();

  constructor(settings: CorsPolicySettings) {
    this.origins = new Set(
      settings.origins.map((origin) => normalizeOrigin(origin) ?? origin.toLowerCase()),
    );
    const shared: Record<string, string> = {};
    if (settings.credentials) shared['access-control-allow-credentials'] = 'true';
    this.allowedHeaders = {
      ...shared,
      ...(settings.exposedHeaders.length > 0 && {
        'access-control-expose-headers': settings.exposedHeaders.join(', '),
      }),
    };
    this.preflightHeaders = {
      ...shared,
      'access-control-allow-methods': settings.methods.join(', '),
      'access-control-allow-headers': settings.allowedHeaders.join(', '),
      'access-control-max-age': String(settings.maxAgeSeconds),
    };
    for (const origin of this.origins) {
      const allowOrigin = { 'access-control-allow-origin': origin };
      this.allowedAnswers.set(origin, {
        kind: 'allowed',
        headers: { ...allowOrigin, ...this.allowedHeaders },
      });
      this.preflightAnswers.set(origin, {
        kind: 'preflight',
        headers: { ...allowOrigin, ...this.preflightHeaders },
      });
    }
  }

  /** The allowed origins, normalized. */
  get allowlist(): string[] {
    return [...this.origins];
  }

  /** True when `origin` is on the allowlist (exact, after normalization). */
  isAllowed(origin: string): boolean {
    const normalized = normalizeOrigin(origin);
    return normalized !== undefined && this.origins.has(normalized);
  }

  decide(request: CorsRequest): CorsDecision {
    const { origin } = request;
    if (origin === undefined || origin === '') return SAME_ORIGIN;
    const answer = (this.isPreflight(request) ? this.preflightAnswers : this.allowedAnswers).get(
      origin,
    );
    if (answer) return answer;
    if (!this.isAllowed(origin)) {
      if (!this.isPreflight(request) && this.isSameOrigin(origin, request.host)) {
        return SAME_ORIGIN;
      }
      return { kind: 'refused', origin };
    }
    const allowOrigin = { 'access-control-allow-origin': normalizeOrigin(origin) as string };
    if (this.isPreflight(request)) {
      return { kind: 'preflight', headers: { ...allowOrigin, ...this.preflightHeaders } };
    }
    return { kind: 'allowed', headers: { ...allowOrigin, ...this.allowedHeaders } };
  }

  private isPreflight(request: CorsRequest): boolean {
    return request.method === 'OPTIONS' && request.requestMethod !== undefined;
  }

  // Browsers send Origin on same-origin POSTs too; those are not CORS. The
  // scheme can't be compared (TLS may end at a proxy), the host and port can.
  private isSameOrigin(origin: string, host: string | undefined): boolean {
    return host !== undefined && hostOf(origin) === host.toLowerCase();
  }
}
