import { Transform } from 'class-transformer';

// Environment variables are always strings. Each transform below turns a
// well-formed string into its typed value and leaves anything else untouched,
// so the validator that follows reports the original text with a clear reason
// instead of a silently coerced NaN or false.

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** The words a boolean setting accepts, case-insensitive. */
export const BOOLEAN_WORDS = [...TRUE_WORDS, ...FALSE_WORDS];

export function parseBooleanSetting(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return value;
}

export function parseIntegerSetting(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  return /^[+-]?\d+$/.test(text) ? Number(text) : value;
}

/** A comma-separated list (`a, b`) or a JSON array of strings (`["a","b"]`). */
export function parseListSetting(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (text.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed) && parsed.every((item) => typeof item === 'string')) {
        return parsed.map((item) => item.trim()).filter((item) => item.length > 0);
      }
    } catch {
      // Not JSON after all: the validator reports it as malformed below.
    }
    return value;
  }
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

export function parseUpperCaseSetting(value: unknown): unknown {
  return typeof value === 'string' ? value.trim().toUpperCase() : value;
}

/** Reads `true/false/1/0/yes/no/on/off` (any case) as a boolean. */
export const ToBoolean = (): PropertyDecorator =>
  Transform(({ value }) => parseBooleanSetting(value));

/** Reads a decimal integer; anything else stays a string for the validator to reject. */
export const ToInteger = (): PropertyDecorator =>
  Transform(({ value }) => parseIntegerSetting(value));

/** Reads a comma-separated list or a JSON array of strings. */
export const ToList = (): PropertyDecorator => Transform(({ value }) => parseListSetting(value));

export function parseLowerCaseSetting(value: unknown): unknown {
  return typeof value === 'string' ? value.trim().toLowerCase() : value;
}

/** Trims and lower-cases the value (`LATEST` reads as `latest`). */
export const ToLowerCase = (): PropertyDecorator =>
  Transform(({ value }) => parseLowerCaseSetting(value));

/** Trims and upper-cases the value (`info` reads as `INFO`). */
export const ToUpperCase = (): PropertyDecorator =>
  Transform(({ value }) => parseUpperCaseSetting(value));
