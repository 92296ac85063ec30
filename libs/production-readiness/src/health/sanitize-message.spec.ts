import { describe, expect, it } from 'vitest';
import { messageSanitizer } from './sanitize-message.js';

describe('messageSanitizer', () => {
  const sanitize = messageSanitizer([
    'postgres://essay_app:hunter2-db@db.internal:5432/essays',
    'redis://:redis-pass@cache.internal:6380',
    undefined,
    'nats://nats-a.internal:4222,nats://nats-b.internal:4222',
  ]);

  it.each([
    ['connect ECONNREFUSED db.internal:5432', 'connect ECONNREFUSED ***'],
    ['getaddrinfo ENOTFOUND db.internal', 'getaddrinfo ENOTFOUND ***'],
    [
      'password authentication failed for user "essay_app"',
      'password authentication failed for user "***"',
    ],
    [
      'WRONGPASS invalid username-password pair (redis-pass)',
      'WRONGPASS invalid username-password pair (***)',
    ],
    ['connect ETIMEDOUT cache.internal:6380', 'connect ETIMEDOUT ***'],
    ['CONNECTION_REFUSED nats-b.internal:4222', 'CONNECTION_REFUSED ***'],
  ])('hides the hosts, users and passwords of the secret URLs: %s', (message, expected) => {
    expect(sanitize(message)).toBe(expected);
  });

  it('replaces host:port whole, longest first, so no port is left dangling', () => {
    const safe = sanitize('db.internal:5432 then db.internal');

    expect(safe).toBe('*** then ***');
  });

  it('hides the credentials of any URL in the message, configured or not', () => {
    const safe = sanitize('cannot reach amqp://guest:guest-pass@mq.example:5672/vhost');

    expect(safe).toBe('cannot reach amqp://***@mq.example:5672/vhost');
    expect(safe).not.toContain('guest-pass');
  });

  it('hides a percent-encoded password as it appears decoded in a message', () => {
    const withEncoded = messageSanitizer(['postgres://app:p%40ss%2Fword@db:5432/x']);

    expect(withEncoded('auth failed with p@ss/word')).toBe('auth failed with ***');
  });

  it('hides a bracketed IPv6 host the way Node prints it, without brackets', () => {
    const ipv6 = messageSanitizer(['postgres://app@[fd00::5]:5432/x']);

    const safe = ipv6('connect ECONNREFUSED fd00::5:5432');

    expect(safe).toBe('connect ECONNREFUSED ***');
  });

  it('leaves secrets of fewer than 3 characters alone rather than mangle every message', () => {
    const short = messageSanitizer(['redis://:pw@cache.internal:6379']);

    expect(short('operation timed out (pw)')).toBe('operation timed out (pw)');
  });

  it('ignores unset and unparsable URLs', () => {
    const none = messageSanitizer([undefined, '', 'not a url', 'sqlite::memory:']);

    expect(none('timeout of 1000ms exceeded')).toBe('timeout of 1000ms exceeded');
  });

  it('cuts messages to 300 characters', () => {
    const safe = sanitize('x'.repeat(1_000));

    expect(safe).toHaveLength(300);
    expect(safe.endsWith('...')).toBe(true);
  });
});
