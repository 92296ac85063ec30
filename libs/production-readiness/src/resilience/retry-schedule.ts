/**
 * The wait before retry number `retry` (1 for the first): full jitter, AWS's
 * `random(0, min(cap, base × 2^(retry-1)))`, which spreads a crowd of clients
 * best (Brooker, "Exponential Backoff and Jitter").
 */
export function fullJitterDelayMs(
  retry: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/**
 * A `Retry-After` value in ms: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable; a date in the past is 0.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number = Date.now(),
): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date names its day and month; Date.parse would read "-1" as a year.
  const date = /[a-z]{3}/i.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The retry budget of gRPC's retry throttling (gRFC A6): a bucket of
 * `maxTokens`; a failed attempt takes one, a success gives back `tokenRatio`;
 * retries are allowed only while more than half the tokens are left. So a
 * struggling dependency sees its failures retried less and less, never
 * multiplied into a storm.
 */
export class RetryBudget {
  private tokens: number;

  constructor(
    private readonly maxTokens: number,
    private readonly tokenRatio: number,
  ) {
    this.tokens = maxTokens;
  }

  get available(): number {
    return this.tokens;
  }

  onSuccess(): void {
    this.tokens = Math.min(this.maxTokens, this.tokens + this.tokenRatio);
  }

  onFailure(): void {
    this.tokens = Math.max(0, this.tokens - 1);
  }

  get allowsRetry(): boolean {
    return this.tokens > this.maxTokens / 2;
  }
}
