import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import type { ResolvedSecurityOptions } from './security.options.js';

/** Sets the security headers on a raw response. */
export type SecurityHeadersWriter = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * The security headers through helmet, on any adapter: helmet is plain
 * `(req, res, next)` over Node's response, which Express and Fastify both
 * have underneath (@fastify/helmet is this same helmet in a Fastify hook).
 * Beyond helmet's defaults: frames denied outright, a CSP for JSON APIs
 * (written here, as one string, rather than through helmet's directive
 * builder), HSTS as configured.
 */
export function securityHeadersWriter(
  headers: ResolvedSecurityOptions['headers'],
): SecurityHeadersWriter | undefined {
  if (!headers) return undefined;
  const { contentSecurityPolicy: csp, hsts } = headers;
  const middleware = helmet({
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
  return (request, response) => {
    // helmet's middlewares are synchronous; an error is only possible for
    // options it rejects, and those throw when helmet() is called above.
    middleware(request, response, () => undefined);
    if (csp) response.setHeader('content-security-policy', csp);
  };
}
