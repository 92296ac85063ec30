import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { REDACTED } from './redact-fields.js';
import { secretHeadersStep } from './secret-headers.js';

const step = secretHeadersStep(['x-api-key', 'x-tenant-pin']);

/** The step's effect on a request with these headers, as Node parses them. */
function screened(headers: Record<string, string>): Record<string, string> {
  step({ headers } as unknown as IncomingMessage, {} as ServerResponse);
  return headers;
}

describe('secretHeadersStep', () => {
  it('replaces every secret header in the JSON of the headers, and keeps the others', () => {
    const headers = screened({
      host: 'example.com',
      authorization: 'Bearer abc',
      'proxy-authorization': 'Basic xyz',
      cookie: 'session=1',
      'x-api-key': 'key-1',
      'x-tenant-pin': '1234',
      'x-auth-token': 't',
    });

    expect(JSON.parse(JSON.stringify(headers))).toEqual({
      host: 'example.com',
      authorization: REDACTED,
      'proxy-authorization': REDACTED,
      cookie: REDACTED,
      'x-api-key': REDACTED,
      'x-tenant-pin': REDACTED,
      'x-auth-token': REDACTED,
    });
  });

  it('hides them from pino, also inside a cyclic object (safe-stable-stringify)', () => {
    const lines: string[] = [];
    const logger = pino({ base: null }, { write: (line: string) => void lines.push(line) });
    const headers = screened({ authorization: 'Bearer abc', accept: 'json' });
    const request: Record<string, unknown> = { headers };
    request.self = request;

    logger.child({ req: { headers } }).info({ request }, 'hi');

    expect(lines.join('')).not.toContain('Bearer abc');
    expect(lines.join('')).toContain('"accept":"json"');
  });

  it('leaves the values to code that reads or enumerates the headers', () => {
    const headers = screened({ authorization: 'Bearer abc', accept: 'json' });

    expect(headers.authorization).toBe('Bearer abc');
    expect(Object.keys(headers)).toEqual(['authorization', 'accept']);
    expect({ ...headers }).toEqual({ authorization: 'Bearer abc', accept: 'json' });
  });

  it('still finds a secret header after clients made up more names than it remembers', () => {
    for (let index = 0; index < 600; index++) screened({ [`x-made-up-${index}`]: 'v' });
    const headers = screened({ 'x-made-up-599': 'v', 'x-made-up-token': 't', accept: 'json' });

    expect(JSON.parse(JSON.stringify(headers))).toEqual({
      'x-made-up-599': 'v',
      'x-made-up-token': REDACTED,
      accept: 'json',
    });
  });

  it('touches no headers object without a secret header', () => {
    const headers = screened({ host: 'example.com', accept: 'json' });

    expect(Object.getOwnPropertyNames(headers)).toEqual(['host', 'accept']);
  });
});
