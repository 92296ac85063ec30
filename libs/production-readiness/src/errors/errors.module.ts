import { Module, type PipeTransform, type DynamicModule } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import {
  ERRORS_OPTIONS,
  ErrorsModuleClass,
  ERRORS_OPTIONS_TYPE,
} from './errors.module-definition.js';
import { resolveErrorsOptions, type ErrorsOptions } from './errors.options.js';
import { ProblemResponseModule } from './problem-response.module.js';
import { ProblemValidationPipe } from './problem-validation.pipe.js';
import { HttpPipelineModule } from '../http/http-pipeline.module.js';
import { BodyRefusals } from './body-refusals.js';

const passThrough: PipeTransform = { transform: (value: unknown) => value };

/**
 * problem+json for every error: the global exception filter (HTTP and
 * messages), the global ValidationPipe, and the refusal of bodies by their
 * headers (415, 413) in the HTTP pipeline, before they are read.
 */
@Module({
  imports: [HttpPipelineModule, ProblemResponseModule],
  providers: [
    BodyRefusals,
    {
      provide: APP_PIPE,
      // Always registered, a no-op when disabled: no second code path.
      useFactory: (options: ErrorsOptions) =>
        resolveErrorsOptions(options).validation ? new ProblemValidationPipe() : passThrough,
      inject: [ERRORS_OPTIONS],
    },
  ],
  exports: [ProblemResponseModule],
})
export class ErrorsModule extends ErrorsModuleClass {
  /** The module with its options; every one has a default, so `forRoot()` is enough. */
  static forRoot(options: typeof ERRORS_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
