import { describe, expect, it } from 'vitest';
import { CorsPolicy, type CorsPolicySettings, type CorsRequest } from './cors-policy.js';

const APP = 'https://app.example.com';

function policy(overrides: Partial<CorsPolicySettings> = {}): CorsPolicy {
  return new CorsPolicy({
    origins: [APP, 'http://localhost:5173'],
    credentials: false,
    maxAgeSeconds: 600,
    methods: ['GET', 'POST'],
    allowedHeaders: ['X-API-Key', 'X-Correlation-ID', 'Content-Type'],
    exposedHeaders: ['X-Correlation-ID'],
    ...overrides,
  });
}

function request(overrides: Partial<CorsRequest>): CorsRequest {
  return {
    method: 'GET',
    origin: undefined,
    host: 'api.example.com',
    requestMethod: undefined,
    ...overrides,
  };
}

describe('CorsPolicy', () => {
  it('lets a request without Origin through untouched: it is not CORS', () => {
    expect(policy().decide(request({}))).toEqual({ kind: 'same-origin' });
    expect(policy().decide(request({ origin: '' }))).toEqual({ kind: 'same-origin' });
  });

  it('answers an allowed origin with itself, never *, and exposes the headers', () => {
    expect(policy().decide(request({ origin: APP }))).toEqual({
      kind: 'allowed',
      headers: {
        'access-control-allow-origin': APP,
        'access-control-expose-headers': 'X-Correlation-ID',
      },
    });
  });

  it('answers an allowed preflight with the methods, our headers and a max age', () => {
    const decision = policy().decide(
      request({ method: 'OPTIONS', origin: 'http://localhost:5173', requestMethod: 'POST' }),
    );

    expect(decision).toEqual({
      kind: 'preflight',
      headers: {
        'access-control-allow-origin': 'http://localhost:5173',
        'access-control-allow-methods': 'GET, POST',
        'access-control-allow-headers': 'X-API-Key, X-Correlation-ID, Content-Type',
        'access-control-max-age': '600',
      },
    });
  });

  it('treats OPTIONS without Access-Control-Request-Method as an ordinary request', () => {
    expect(policy().decide(request({ method: 'OPTIONS', origin: APP })).kind).toBe('allowed');
  });

  it('adds credentials to both answers only when configured', () => {
    const withCredentials = policy({ credentials: true });

    const simple = withCredentials.decide(request({ origin: APP }));
    const preflight = withCredentials.decide(
      request({ method: 'OPTIONS', origin: APP, requestMethod: 'GET' }),
    );

    expect(simple.kind === 'allowed' && simple.headers).toMatchObject({
      'access-control-allow-credentials': 'true',
    });
    expect(preflight.kind === 'preflight' && preflight.headers).toMatchObject({
      'access-control-allow-credentials': 'true',
    });
    const without = policy().decide(request({ origin: APP }));
    expect(without.kind === 'allowed' && without.headers).not.toHaveProperty(
      'access-control-allow-credentials',
    );
  });

  it('refuses other origins, their preflights, look-alikes and null', () => {
    const refused = [
      'https://evil.example.com',
      'http://app.example.com', // another scheme is another origin
      'https://app.example.com:8443', // and so is another port
      'https://app.example.com.evil.net',
      'https://sub.app.example.com',
      'null',
      'not a url',
    ];
    for (const origin of refused) {
      expect(policy().decide(request({ origin })), origin).toEqual({ kind: 'refused', origin });
      expect(
        policy().decide(request({ method: 'OPTIONS', origin, requestMethod: 'POST' })).kind,
        origin,
      ).toBe('refused');
    }
  });

  it('matches origins as browsers serialize them: case and default ports', () => {
    const decision = policy({ origins: ['https://APP.example.com:443'] }).decide(
      request({ origin: APP }),
    );

    expect(decision).toMatchObject({
      kind: 'allowed',
      headers: { 'access-control-allow-origin': APP },
    });
  });

  it("lets a browser's same-origin request through (its Origin's host is the Host asked)", () => {
    const sameOrigin = request({ method: 'POST', origin: 'https://api.example.com' });

    expect(policy().decide(sameOrigin)).toEqual({ kind: 'same-origin' });
    expect(policy({ origins: [] }).decide(sameOrigin)).toEqual({ kind: 'same-origin' });
  });

  it('refuses every cross-origin request when the allowlist is empty', () => {
    expect(policy({ origins: [] }).decide(request({ origin: APP })).kind).toBe('refused');
  });
});
