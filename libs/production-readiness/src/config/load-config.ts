import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Type } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, type ValidationError } from 'class-validator';
import { parse as parseDotenv } from 'dotenv';
import { ConfigValidationError, type SettingProblem } from './config-validation.error.js';
import { secretSettingsOf } from './secret-setting.decorator.js';

export interface LoadConfigOptions {
  /**
   * The environment to read. Real variables win over the `.env` file.
   * @default process.env
   */
  env?: Record<string, string | undefined>;
  /**
   * The `.env` file to read, relative to the working directory; `false` reads none.
   * A missing file is not an error.
   * @default '.env'
   */
  envFilePath?: string | false;
}

/** The names of the settings a config class declares, its ancestors' included. */
export function settingNamesOf(configClass: Type<object>): string[] {
  const validated = getMetadataStorage()
    .getTargetValidationMetadatas(configClass, '', true, false)
    .map((metadata) => metadata.propertyName);
  const defaulted = Object.keys(new configClass());
  return [...new Set([...validated, ...defaulted])];
}

function readEnvFile(envFilePath: string | false | undefined): Record<string, string> {
  if (envFilePath === false) return {};
  const path = resolve(envFilePath ?? '.env');
  return existsSync(path) ? parseDotenv(readFileSync(path)) : {};
}

function describeReceived(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return JSON.stringify(shown);
}

function toProblems(
  errors: ValidationError[],
  raw: Record<string, string>,
  secrets: Set<string | symbol>,
): SettingProblem[] {
  return errors.map((error) => {
    const setting = error.property;
    if (raw[setting] === undefined) {
      return { setting, reason: 'is required but not set' };
    }
    const reasons = [...new Set(Object.values(error.constraints ?? {}))].join('; ');
    const received = secrets.has(setting)
      ? 'value hidden'
      : `got ${describeReceived(raw[setting])}`;
    return { setting, reason: `${reasons} (${received})` };
  });
}

/**
 * Reads, coerces and validates a config class from the environment and the
 * `.env` file. Empty values count as unset. Throws one ConfigValidationError
 * naming every invalid setting; never prints a secret. The result is frozen.
 */
export function loadConfig<T extends object>(
  configClass: Type<T>,
  options: LoadConfigOptions = {},
): T {
  const environment = {
    ...readEnvFile(options.envFilePath),
    ...stripUndefined(options.env ?? process.env),
  };
  const raw: Record<string, string> = {};
  for (const name of settingNamesOf(configClass)) {
    const value = environment[name];
    if (value !== undefined && value.trim() !== '') raw[name] = value;
  }
  const config = plainToInstance(configClass, raw);
  const errors = validateSync(config, { forbidUnknownValues: false, stopAtFirstError: false });
  if (errors.length > 0) {
    const secrets = secretSettingsOf(configClass.prototype as object);
    throw new ConfigValidationError(configClass.name, toProblems(errors, raw, secrets));
  }
  // List settings (CORS_ORIGINS, API_KEYS) are frozen too: a shallow freeze
  // would still let any module add an origin or a key at run time.
  for (const value of Object.values(config)) {
    if (Array.isArray(value)) Object.freeze(value);
  }
  return Object.freeze(config);
}

function stripUndefined(env: Record<string, string | undefined>): Record<string, string> {
  const defined: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined) defined[name] = value;
  }
  return defined;
}
