import { describe, expect, it } from 'vitest';
import { fieldRedactor, REDACTED } from './redact-fields.js';

const redact = fieldRedactor(['x-api-key']);

/** What pino would write for the value: no redacted secret may survive serialization. */
function serialized(value: object): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, field: unknown) => {
    if (typeof field === 'object' && field !== null) {
      if (seen.has(field)) return '[Circular]';
      seen.add(field);
    }
    return field;
  });
}

describe('fieldRedactor', () => {
  it.each([
    'authorization',
    'Authorization',
    'proxy-authorization',
    'cookie',
    'set-cookie',
    'Set-Cookie',
    'password',
    'dbPassword',
    'PASSWORD',
    'passwd',
    'secret',
    'clientSecret',
    'secretValue',
    'token',
    'accessToken',
    'refresh_token',
    'apiKey',
    'api_key',
    'api-key',
    'apikeys',
    'x-api-key',
  ])('redacts a field named %s', (name) => {
    expect(redact({ [name]: 'hunter2' })).toEqual({ [name]: REDACTED });
  });

  it.each(['user', 'authorizationUrl', 'cookies-enabled', 'passage', 'keyboard', 'apiKeyCount'])(
    'keeps a field named %s',
    (name) => {
      expect(redact({ [name]: 'visible' })).toEqual({ [name]: 'visible' });
    },
  );

  it('redacts the extra names it is given, in any case', () => {
    const withTenantKey = fieldRedactor(['X-Tenant-Key']);

    expect(withTenantKey({ 'x-tenant-key': 'k1', headers: { 'X-TENANT-KEY': 'k2' } })).toEqual({
      'x-tenant-key': REDACTED,
      headers: { 'X-TENANT-KEY': REDACTED },
    });
  });

  it('redacts the whole value of a sensitive field, whatever it holds', () => {
    expect(redact({ secret: { nested: 'value' }, token: ['a', 'b'], password: 42 })).toEqual({
      secret: REDACTED,
      token: REDACTED,
      password: REDACTED,
    });
  });

  it('redacts at any depth, in objects and in arrays', () => {
    const value = {
      request: { headers: { authorization: 'Bearer abc', accept: 'json' } },
      users: [{ name: 'ada', password: 'p1' }, { name: 'bob' }],
      deep: { a: { b: { c: { d: { e: { f: { g: { apiKey: 'x' } } } } } } } },
    };

    expect(redact(value)).toEqual({
      request: { headers: { authorization: REDACTED, accept: 'json' } },
      users: [{ name: 'ada', password: REDACTED }, { name: 'bob' }],
      deep: { a: { b: { c: { d: { e: { f: { g: { apiKey: REDACTED } } } } } } } },
    });
  });

  it('finds a secret nested deeper than ten levels', () => {
    let value: object = { password: 'deep-secret' };
    for (let level = 0; level < 12; level++) value = { next: value };

    expect(serialized(redact(value))).not.toContain('deep-secret');
  });

  it('cuts off what lies deeper than it looks, rather than let a secret through', () => {
    let value: object = { password: 'bottomless-secret' };
    for (let level = 0; level < 100; level++) value = { next: value };

    const text = serialized(redact(value));

    expect(text).not.toContain('bottomless-secret');
    expect(text).toContain('"[Truncated]"');
  });

  it('never changes the object it is given', () => {
    const headers = { authorization: 'Bearer abc' };
    const value = { headers, list: [{ token: 't' }] };

    redact(value);

    expect(value).toEqual({ headers: { authorization: 'Bearer abc' }, list: [{ token: 't' }] });
    expect(value.headers).toBe(headers);
  });

  describe('returns an object without sensitive fields as it is (no copy)', () => {
    it.each([
      ['a flat object', { msg: 'hello', status: 200 }],
      ['a nested object', { request: { method: 'GET', headers: { accept: 'json' } } }],
      ['an object with arrays', { items: [1, 2, { id: 3 }], tags: ['a'] }],
      ['an empty object', {}],
      ['an array', [{ id: 1 }, 'x']],
    ])('%s', (_case, value) => {
      expect(redact(value)).toBe(value);
    });

    it('an object with a cycle', () => {
      const value: Record<string, unknown> = { name: 'loop' };
      value.self = value;

      expect(redact(value)).toBe(value);
    });

    it('the untouched branches of an object it copies', () => {
      const untouched = { method: 'GET', path: '/essays' };
      const value = { request: untouched, password: 'p' };

      const result = redact(value) as typeof value;

      expect(result).not.toBe(value);
      expect(result.password).toBe(REDACTED);
      expect(result.request).toEqual(untouched);
    });
  });

  describe('values it leaves alone', () => {
    it('keeps Dates, Buffers and Errors as they are', () => {
      const date = new Date('2024-01-02T03:04:05Z');
      const buffer = Buffer.from('abc');
      const error = new Error('boom');

      const result = redact({ date, buffer, err: error, password: 'p' }) as Record<string, unknown>;

      expect(result.date).toBe(date);
      expect(result.buffer).toBe(buffer);
      expect(result.err).toBe(error);
      expect(result.password).toBe(REDACTED);
    });

    it('keeps primitives and nulls', () => {
      expect(redact({ a: null, b: undefined, c: 1, d: 'x', e: true })).toEqual({
        a: null,
        b: undefined,
        c: 1,
        d: 'x',
        e: true,
      });
    });
  });

  describe('objects referenced more than once', () => {
    it('redacts a cycle without looping, and the secret does not come back through it', () => {
      const value: Record<string, unknown> = { password: 'cyclic-secret', name: 'loop' };
      value.self = value;

      const result = redact(value) as Record<string, unknown>;

      expect(result.password).toBe(REDACTED);
      expect(serialized(result)).not.toContain('cyclic-secret');
    });

    it('redacts a cycle through an array', () => {
      const list: unknown[] = [{ token: 'array-cycle-secret' }];
      list.push(list);

      expect(serialized(redact({ list }))).not.toContain('array-cycle-secret');
    });

    it('redacts an object reached twice by two paths', () => {
      const credentials = { user: 'ada', password: 'shared-secret' };

      const result = redact({ first: credentials, second: credentials });

      expect(result).toEqual({
        first: { user: 'ada', password: REDACTED },
        second: { user: 'ada', password: REDACTED },
      });
      expect(serialized(result)).not.toContain('shared-secret');
    });

    it('redacts an array reached twice', () => {
      const tokens = [{ token: 'shared-array-secret' }];

      expect(serialized(redact({ list: tokens, again: tokens }))).not.toContain(
        'shared-array-secret',
      );
    });
  });
});
