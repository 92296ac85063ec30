import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import type { ResolvedSecurityOptions } from './security.options.js';

/** Sets the security headers on a raw response. */
export type SecurityHeadersWriter = (request: IncomingMessage, response: ServerResponse) => void;

// helmet's defaults that only protect HTML documents a browser renders
// (DNS prefetching, IE8 downloads, Flash cross-domain policies, the retired
// XSS auditor, origin-keyed agent clusters, window openers): a JSON API sends
// none of them. Each header costs its validation on every response.
const HTML_ONLY_HEADERS = {
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
  originAgentCluster: false,
  crossOriginOpenerPolicy: false,
} as const;

/** A response that only records what helmet sets on it. */
function recordingResponse(): { response: ServerResponse; headers: Map<string, string> } {
  const headers = new Map<string, string>();
  const response = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value));
      return response;
    },
    removeHeader(name: string) {
      headers.delete(name.toLowerCase());
    },
    getHeader(name: string) {
      return headers.get(name.toLowerCase());
    },
  };
  return { response: response as unknown as ServerResponse, headers };
}

/**
 * The security headers, from helmet, computed once: helmet runs at startup
 * against a recording response, and each response then gets the recorded
 * name/value pairs. helmet's headers do not depend on the request (its only
 * per-request work is setting them), so this is what it would set, without
 * its middleware chain on every request. Beyond helmet's defaults: frames
 * denied outright, a CSP for JSON APIs, HSTS as configured, Referrer-Policy
 * no-referrer, and no HTML-only headers (re-enable any through `helmet`).
 */
export function securityHeadersWriter(
  headers: ResolvedSecurityOptions['headers'],
): SecurityHeadersWriter | undefined {
  if (!headers) return undefined;
  const { contentSecurityPolicy: csp, hsts } = headers;
  const middleware = helmet({
    ...HTML_ONLY_HEADERS,
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    hsts: hsts && {
      maxAge: hsts.maxAgeSeconds,
      includeSubDomains: hsts.includeSubDomains,
      preload: hsts.preload,
    },
    ...headers.helmet,
    contentSecurityPolicy: false,
  } as Parameters<typeof helmet>[0]);
  const recorded = recordingResponse();
  middleware({} as IncomingMessage, recorded.response, () => undefined);
  if (csp) recorded.headers.set('content-security-policy', csp);
  const pairs = [...recorded.headers];
  return (_request, response) => {
    for (let index = 0; index < pairs.length; index++) {
      response.setHeader(pairs[index][0], pairs[index][1]);
    }
  };
}
