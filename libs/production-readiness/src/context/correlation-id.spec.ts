import { describe, expect, it } from 'vitest';
import { correlationIdFrom, isSafeCorrelationId, traceIdOf } from './correlation-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

describe('isSafeCorrelationId', () => {
  it.each([
    'a',
    'abc-123',
    'A.b_c:d-e',
    '5f0c6e2a-9d1b-4c3e-8f7a-0b1c2d3e4f5a',
    TRACE_ID,
    'x'.repeat(128),
  ])('accepts %s', (value) => {
    expect(isSafeCorrelationId(value)).toBe(true);
  });

  it.each([
    ['an empty string', ''],
    ['129 characters', 'x'.repeat(129)],
    ['10 KB', 'x'.repeat(10_240)],
    ['a space', 'a b'],
    ['a tab', 'a\tb'],
    ['a CR', 'a\rb'],
    ['an LF', 'a\nb'],
    ['a NUL', 'a\0b'],
    ['quotes', '"a"'],
    ['braces', '{a}'],
    ['a slash', 'a/b'],
    ['a comma (two joined headers)', 'a, b'],
    ['a non-ASCII letter', 'idé'],
    ['a trailing newline', 'abc\n'],
  ])('refuses %s', (_case, value) => {
    expect(isSafeCorrelationId(value)).toBe(false);
  });

  it.each([undefined, null, 42, ['abc'], { id: 'abc' }])('refuses the non-string %j', (value) => {
    expect(isSafeCorrelationId(value)).toBe(false);
  });
});

describe('traceIdOf', () => {
  it('returns the trace id of a valid traceparent', () => {
    expect(traceIdOf(`00-${TRACE_ID}-${PARENT_ID}-01`)).toBe(TRACE_ID);
  });

  it('accepts any trace flags and surrounding whitespace', () => {
    expect(traceIdOf(`  00-${TRACE_ID}-${PARENT_ID}-00 `)).toBe(TRACE_ID);
  });

  it.each([
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${PARENT_ID}-01`],
    ['an all-zero parent id (W3C Trace Context §3.2.2.4)', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['version ff (W3C Trace Context §3.2.2.1)', `ff-${TRACE_ID}-${PARENT_ID}-01`],
    ['upper-case hex', `00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01`],
    ['a short trace id', `00-${TRACE_ID.slice(1)}-${PARENT_ID}-01`],
    ['a short parent id', `00-${TRACE_ID}-${PARENT_ID.slice(1)}-01`],
    ['a missing flags field', `00-${TRACE_ID}-${PARENT_ID}`],
    ['extra fields on version 00', `00-${TRACE_ID}-${PARENT_ID}-01-extra`],
    ['non-hex characters', `00-${TRACE_ID.slice(0, 31)}g-${PARENT_ID}-01`],
    ['an empty string', ''],
  ])('ignores %s', (_case, value) => {
    expect(traceIdOf(value)).toBeUndefined();
  });

  it.each([undefined, 42, [`00-${TRACE_ID}-${PARENT_ID}-01`]])(
    'ignores the non-string %j',
    (value) => {
      expect(traceIdOf(value)).toBeUndefined();
    },
  );
});

describe('correlationIdFrom', () => {
  const traceparent = `00-${TRACE_ID}-${PARENT_ID}-01`;

  it('takes a safe X-Correlation-ID first', () => {
    expect(
      correlationIdFrom({ 'x-correlation-id': 'corr-1', 'x-request-id': 'req-1', traceparent }),
    ).toBe('corr-1');
  });

  it('takes X-Request-ID when X-Correlation-ID is absent or unsafe', () => {
    expect(correlationIdFrom({ 'x-request-id': 'req-1', traceparent })).toBe('req-1');
    expect(correlationIdFrom({ 'x-correlation-id': 'not safe', 'x-request-id': 'req-1' })).toBe(
      'req-1',
    );
  });

  it('takes the trace id of traceparent when neither id header is safe', () => {
    expect(correlationIdFrom({ traceparent })).toBe(TRACE_ID);
    expect(correlationIdFrom({ 'x-correlation-id': '{}', 'x-request-id': '"', traceparent })).toBe(
      TRACE_ID,
    );
  });

  it('takes the first of repeated header values', () => {
    expect(correlationIdFrom({ 'x-correlation-id': ['first', 'second'] })).toBe('first');
  });

  it('mints a new UUID v4 when nothing usable came', () => {
    const minted = [
      correlationIdFrom({}),
      correlationIdFrom({ 'x-correlation-id': 'x'.repeat(129) }),
      correlationIdFrom({ 'x-correlation-id': 'a\r\nSet-Cookie: x=1' }),
      correlationIdFrom({ traceparent: `00-${'0'.repeat(32)}-${PARENT_ID}-01` }),
      correlationIdFrom({ 'x-correlation-id': undefined, 'x-request-id': [] }),
    ];

    for (const id of minted) expect(id).toMatch(UUID_V4);
    expect(new Set(minted).size).toBe(minted.length);
  });

  it('reads only lower-case header names, as Node gives them', () => {
    expect(correlationIdFrom({ 'X-Correlation-ID': 'upper' })).toMatch(UUID_V4);
  });
});
