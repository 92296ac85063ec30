/** One invalid setting: its environment name and why it was refused. */
export interface SettingProblem {
  setting: string;
  reason: string;
}

const CONFIG_VALIDATION_ERROR = Symbol.for('nestjs-production-readiness:ConfigValidationError');

/**
 * Thrown when the environment does not make a valid configuration. Its
 * message lists every problem at once and never contains a secret value.
 */
export class ConfigValidationError extends Error {
  readonly [CONFIG_VALIDATION_ERROR] = true;

  constructor(
    readonly configName: string,
    readonly problems: readonly SettingProblem[],
  ) {
    super(
      [
        `Invalid configuration for ${configName}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
        ...problems.map((problem) => `  - ${problem.setting}: ${problem.reason}`),
        'Set these environment variables (or put them in .env) and start again.',
      ].join('\n'),
    );
    this.name = 'ConfigValidationError';
  }
}

/** True for a ConfigValidationError, even one from another copy of this package. */
export function isConfigValidationError(error: unknown): error is ConfigValidationError {
  return typeof error === 'object' && error !== null && CONFIG_VALIDATION_ERROR in error;
}
