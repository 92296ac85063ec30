import { secretSettingsOf } from './secret-setting.decorator.js';

const MASK = '***';

/**
 * Hides the password of a URL (`postgres://app:***@db:5432/essays`) and keeps
 * the rest, which an operator needs to see. A value that does not parse as a
 * URL is hidden whole, since it may be the secret itself.
 */
export function redactUrlPassword(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return MASK;
  }
  if (url.password) url.password = MASK;
  return url.toString();
}

function redactSecretValue(value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (Array.isArray(value)) return value.map(() => MASK);
  if (typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    return redactUrlPassword(value);
  }
  return MASK;
}

/**
 * The settings of a loaded config as a plain object that is safe to log:
 * every `@SecretSetting()` is masked.
 */
export function redactSettings(config: object): Record<string, unknown> {
  const secrets = secretSettingsOf(Object.getPrototypeOf(config) as object);
  const safe: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(config)) {
    safe[name] = secrets.has(name) ? redactSecretValue(value) : value;
  }
  return safe;
}
