import { ValidateBy, type ValidationOptions } from 'class-validator';

function parseUrl(value: unknown): URL | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/**
 * A URL, optionally limited to some schemes (`['postgres', 'postgresql']`).
 * The message never repeats the value: URL settings carry passwords.
 */
export function IsServiceUrl(
  schemes?: readonly string[],
  options?: ValidationOptions & { commaSeparated?: boolean },
) {
  const allowed = schemes?.map((scheme) => scheme.replace(/:$/, '').toLowerCase());
  const isAllowed = (value: unknown) => {
    const url = parseUrl(value);
    if (!url) return false;
    return !allowed || allowed.includes(url.protocol.replace(/:$/, '').toLowerCase());
  };
  const what = options?.commaSeparated ? 'a comma-separated list of URLs' : 'a URL';
  return ValidateBy(
    {
      name: 'isServiceUrl',
      validator: {
        validate: (value: unknown) =>
          options?.commaSeparated && typeof value === 'string'
            ? value.split(',').every((part) => isAllowed(part.trim()))
            : isAllowed(value),
        defaultMessage: () =>
          allowed
            ? `must be ${what} starting with ${allowed.map((scheme) => `${scheme}:`).join(' or ')}`
            : `must be ${what} (scheme://host...)`,
      },
    },
    options,
  );
}

/** A browser origin: `http(s)://host[:port]`, nothing after it. */
export function isOrigin(value: unknown): boolean {
  const url = parseUrl(value);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) return false;
  // The URL parser accepts `*` in a host name, so `https://*.example.com`
  // would otherwise pass as an exact origin.
  if (url.hostname.includes('*')) return false;
  return url.origin === String(value).replace(/\/$/, '');
}

/** Every entry is an exact origin such as `https://app.example.com`. */
export function IsOriginList(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isOriginList',
      validator: {
        validate: (value: unknown) => Array.isArray(value) && value.every(isOrigin),
        defaultMessage: () =>
          'must be a comma-separated list or JSON array of origins like https://app.example.com (scheme, host and optional port; no path, no wildcard)',
      },
    },
    options,
  );
}

const SHA256_ENTRY = /^sha256:[0-9a-f]{64}$/i;

/** Every entry is a plain key of 16+ characters or `sha256:<64 hex digits>`. */
export function IsApiKeyList(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isApiKeyList',
      validator: {
        validate: (value: unknown) =>
          Array.isArray(value) &&
          value.every(
            (entry) =>
              typeof entry === 'string' &&
              (entry.toLowerCase().startsWith('sha256:')
                ? SHA256_ENTRY.test(entry)
                : entry.length >= 16 && /^[\x21-\x7e]+$/.test(entry)),
          ),
        defaultMessage: () =>
          'must be a comma-separated list of keys, each either at least 16 printable characters without spaces or sha256:<64 hex digits>',
      },
    },
    options,
  );
}

/** An HTTP header name (an RFC 9110 token). */
export function IsHeaderName(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isHeaderName',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/.test(value),
        defaultMessage: () => 'must be a valid HTTP header name such as X-API-Key',
      },
    },
    options,
  );
}

/** A comma-separated list of `host:port` pairs, as Kafka's bootstrap servers. */
export function IsHostPortList(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isHostPortList',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' &&
          value
            .split(',')
            .map((entry) => entry.trim())
            .every((entry) => {
              const match = /^(\[[0-9a-f:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/i.exec(entry);
              return match !== null && Number(match[2]) >= 1 && Number(match[2]) <= 65535;
            }),
        defaultMessage: () => 'must be a comma-separated list of host:port pairs',
      },
    },
    options,
  );
}
