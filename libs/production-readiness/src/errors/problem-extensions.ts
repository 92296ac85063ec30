import { PROBLEM_MEMBERS } from './problem-details.js';
import type { FieldError } from './service-error.js';

// RFC 9457 §3.2: extension names start with a letter and hold letters,
// digits and `_`, so the problem can be serialized beyond JSON.
const EXTENSION_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
// Never copied, at any depth: a stack says where the code lives, and the
// other three are what prototype pollution goes through.
const SKIPPED_KEYS = new Set(['stack', '__proto__', 'constructor', 'prototype']);

/** Bounds on what an app's exception body may add to a problem. */
const LIMITS = {
  depth: 4,
  entriesPerValue: 50,
  stringLength: 1_000,
  /** Values copied in all, so a wide and deep body costs little to walk. */
  values: 500,
  /** Length of all extension members together, as JSON. */
  serializedLength: 8_192,
};

interface Budget {
  values: number;
}

function clipped(text: string): string {
  return text.length > LIMITS.stringLength ? `${text.slice(0, LIMITS.stringLength)}…` : text;
}

// What JSON.stringify would make of a value, within LIMITS; undefined to leave it out.
function jsonSafe(value: unknown, depth: number, budget: Budget): unknown {
  if (budget.values <= 0) return undefined;
  budget.values -= 1;
  switch (typeof value) {
    case 'string':
      return clipped(value);
    case 'number':
      return Number.isFinite(value) ? value : undefined;
    case 'boolean':
      return value;
    case 'bigint':
      // JSON.stringify throws on one.
      return value.toString();
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return null;
  // An Error carries its stack and often what it was given (a URL, a query).
  if (value instanceof Error || depth >= LIMITS.depth) return undefined;
  const { toJSON } = value as { toJSON?: unknown };
  if (typeof toJSON === 'function') return jsonSafe(toJSON.call(value), depth + 1, budget);
  if (Array.isArray(value)) {
    return value
      .slice(0, LIMITS.entriesPerValue)
      .map((item: unknown) => jsonSafe(item, depth + 1, budget) ?? null);
  }
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value).slice(0, LIMITS.entriesPerValue)) {
    if (SKIPPED_KEYS.has(key)) continue;
    const member = jsonSafe((value as Record<string, unknown>)[key], depth + 1, budget);
    if (member !== undefined) copy[key] = member;
  }
  return copy;
}

/**
 * The members of an exception body worth sending as RFC 9457 extension
 * members: every one but `omitted` and the problem's own, made JSON-safe
 * (no functions, Errors or stacks; long strings, lists and deep objects
 * cut), together at most 8,192 characters of JSON. Undefined when none
 * is left.
 */
export function problemExtensionsOf(
  body: Record<string, unknown>,
  omitted: ReadonlySet<string>,
): Record<string, unknown> | undefined {
  const extensions: Record<string, unknown> = {};
  const budget: Budget = { values: LIMITS.values };
  // The braces, less the comma the last member goes without.
  let length = 1;
  for (const name of Object.keys(body)) {
    if (omitted.has(name) || PROBLEM_MEMBERS.has(name) || SKIPPED_KEYS.has(name)) continue;
    if (!EXTENSION_NAME.test(name)) continue;
    let value: unknown;
    try {
      value = jsonSafe(body[name], 0, budget);
    } catch {
      // A getter or toJSON that throws: that member is left out, not the problem.
      continue;
    }
    if (value === undefined) continue;
    // `"name":value,` as JSON.stringify() writes the member.
    const size = JSON.stringify(name).length + JSON.stringify(value).length + 2;
    if (length + size > LIMITS.serializedLength) continue;
    length += size;
    extensions[name] = value;
  }
  return Object.keys(extensions).length > 0 ? extensions : undefined;
}

/** The body's `errors`, when it is a list of `{ field, message }` as the problem's own `errors` are. */
export function fieldErrorsOf(body: Record<string, unknown>): FieldError[] | undefined {
  const { errors } = body;
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  const isFieldError = (item: unknown): item is FieldError =>
    typeof (item as FieldError | null)?.field === 'string' &&
    typeof (item as FieldError | null)?.message === 'string';
  if (!errors.every(isFieldError)) return undefined;
  return errors
    .slice(0, LIMITS.entriesPerValue)
    .map(({ field, message }) => ({ field: clipped(field), message: clipped(message) }));
}
