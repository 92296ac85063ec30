import type { Type } from '@nestjs/common';
import type { ProblemExceptionFilter } from './problem-exception.filter.js';

/** Options of ErrorsModule. */
export interface ErrorsOptions {
  /**
   * Prefix of the problem `type` URI; the code follows in kebab case
   * (`urn:problem-type:validation-failed`). RFC 9457 §3.1.1.
   * @default 'urn:problem-type:'
   */
  typeBaseUri?: string;
  /**
   * Register the global ValidationPipe (whitelist, forbid unknown fields, transform).
   * @default true
   */
  validation?: boolean;
  /**
   * Content types accepted for request bodies besides JSON (`application/json`,
   * `application/*+json`); any other body is refused with 415.
   * @default []
   */
  extraBodyTypes?: string[];
  /**
   * The global exception filter class: a subclass of ProblemExceptionFilter
   * overriding `handleHttp()` or `handleRpc()`. Its constructor's
   * dependencies are resolved from the library's ProblemResponseModule,
   * which sees ProblemResponder, HttpAdapterHost and the app's global providers.
   * @default ProblemExceptionFilter
   */
  exceptionFilter?: Type<ProblemExceptionFilter>;
}

export interface ResolvedErrorsOptions {
  typeBaseUri: string;
  validation: boolean;
  extraBodyTypes: readonly string[];
}

export function resolveErrorsOptions(options: ErrorsOptions = {}): ResolvedErrorsOptions {
  return {
    typeBaseUri: options.typeBaseUri ?? 'urn:problem-type:',
    validation: options.validation ?? true,
    extraBodyTypes: (options.extraBodyTypes ?? []).map((type) => type.toLowerCase()),
  };
}
