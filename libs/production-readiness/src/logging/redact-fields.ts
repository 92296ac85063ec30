export const REDACTED = '[REDACTED]';

const SENSITIVE_NAME_PATTERN =
  'pass(word|wd)?$|secret|token|api[-_]?keys?$|^(proxy-)?authorization$|^cookie$|^set-cookie$';
const SENSITIVE_NAME = new RegExp(SENSITIVE_NAME_PATTERN, 'i');
// node:http lower-cases header names; without the `i` flag the test is three times faster.
const SENSITIVE_HEADER_NAME = new RegExp(SENSITIVE_NAME_PATTERN);
// Deeper than this, a copy holds TRUNCATED instead: log objects are never that
// deep, and a limit keeps a pathological one from exhausting the stack.
const MAX_DEPTH = 32;
const TRUNCATED = '[Truncated]';

// Dates, Buffers and the like serialize themselves; Errors go to pino's err serializer.
function isLeaf(value: object): boolean {
  return value instanceof Error || typeof (value as { toJSON?: unknown }).toJSON === 'function';
}

/**
 * Whether a request header name, lower-case as node:http gives it, is
 * sensitive by the rule of `fieldRedactor` (the same names and `extraNames`).
 */
export function sensitiveHeaderTest(extraNames: readonly string[]): (name: string) => boolean {
  const extra = new Set(extraNames.map((name) => name.toLowerCase()));
  return (name) => SENSITIVE_HEADER_NAME.test(name) || extra.has(name);
}

/**
 * A function that returns a copy of a log object with sensitive fields
 * replaced, at any depth. Objects without such fields are returned as they
 * are, so the common case allocates nothing but the walk's visited set.
 */
export function fieldRedactor(extraNames: readonly string[]): (value: object) => object {
  const extra = new Set(extraNames.map((name) => name.toLowerCase()));
  const isSensitive = (name: string) => SENSITIVE_NAME.test(name) || extra.has(name.toLowerCase());

  const needsCopy = (value: unknown, depth: number, seen: WeakSet<object>): boolean => {
    if (value === null || typeof value !== 'object' || isLeaf(value)) return false;
    if (depth > MAX_DEPTH) return true;
    if (seen.has(value)) return false;
    seen.add(value);
    if (Array.isArray(value)) return value.some((item) => needsCopy(item, depth + 1, seen));
    return Object.entries(value).some(
      ([name, field]) => isSensitive(name) || needsCopy(field, depth + 1, seen),
    );
  };

  // Each object is copied once and every reference to it, a cycle's or a
  // second path's, gets that copy: returning the original there would let
  // the serializer print the secret that the first copy hid.
  const copy = (value: unknown, depth: number, copies: Map<object, unknown>): unknown => {
    if (value === null || typeof value !== 'object' || isLeaf(value)) return value;
    if (depth > MAX_DEPTH) return TRUNCATED;
    const existing = copies.get(value);
    if (existing !== undefined) return existing;
    if (Array.isArray(value)) {
      const items: unknown[] = [];
      copies.set(value, items);
      for (const item of value as unknown[]) items.push(copy(item, depth + 1, copies));
      return items;
    }
    const fields: Record<string, unknown> = {};
    copies.set(value, fields);
    for (const [name, field] of Object.entries(value)) {
      fields[name] = isSensitive(name) ? REDACTED : copy(field, depth + 1, copies);
    }
    return fields;
  };

  return (value) =>
    needsCopy(value, 0, new WeakSet()) ? (copy(value, 0, new Map()) as object) : value;
}
