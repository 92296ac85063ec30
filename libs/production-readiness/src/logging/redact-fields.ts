export const REDACTED = '[REDACTED]';

const SENSITIVE_NAME = /pass(word|wd)?$|secret|token|api[-_]?keys?$|^authorization$|^cookie$|^set-cookie$/i;
const MAX_DEPTH = 8;

/**
 * A function that returns a copy of a log object with sensitive fields
 * replaced, at any depth. Objects without such fields are returned as they
 * are, so the common case allocates nothing.
 */
export function fieldRedactor(extraNames: readonly string[]): (value: object) => object {
  const extra = new Set(extraNames.map((name) => name.toLowerCase()));
  const isSensitive = (name: string) => SENSITIVE_NAME.test(name) || extra.has(name.toLowerCase());

  const redact = (value: unknown, depth: number, seen: WeakSet<object>): unknown => {
    if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
    if (seen.has(value) || value instanceof Error || Buffer.isBuffer(value)) return value;
    seen.add(value);
    if (Array.isArray(value)) {
      const items = value as unknown[];
      let copy: unknown[] | undefined;
      items.forEach((item, index) => {
        const redacted = redact(item, depth + 1, seen);
        if (redacted !== item) (copy ??= [...items])[index] = redacted;
      });
      return copy ?? items;
    }
    let copy: Record<string, unknown> | undefined;
    for (const [name, field] of Object.entries(value)) {
      const redacted = isSensitive(name) ? REDACTED : redact(field, depth + 1, seen);
      if (redacted !== field) (copy ??= { ...(value as Record<string, unknown>) })[name] = redacted;
    }
    return copy ?? value;
  };

  return (value) => redact(value, 0, new WeakSet()) as object;
}
