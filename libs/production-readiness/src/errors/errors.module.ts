import { Module, type PipeTransform } from '@nestjs/common';
import { APP_FILTER, APP_PIPE, DiscoveryModule } from '@nestjs/core';
import { ERRORS_OPTIONS, ErrorsModuleClass } from './errors.module-definition.js';
import { resolveErrorsOptions, type ErrorsOptions } from './errors.options.js';
import { ProblemExceptionFilter } from './problem-exception.filter.js';
import { ProblemResponder } from './problem-responder.js';
import { ProblemValidationPipe } from './problem-validation.pipe.js';
import { RouteTable } from '../http/route-table.js';
import { BodyRefusals } from './body-refusals.js';

const passThrough: PipeTransform = { transform: (value: unknown) => value };

/**
 * problem+json for every error: the global exception filter (HTTP and
 * messages), the global ValidationPipe, and the refusal of bodies by their
 * headers (415, 413) in the HTTP pipeline, before they are read.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    RouteTable,
    ProblemResponder,
    BodyRefusals,
    { provide: APP_FILTER, useClass: ProblemExceptionFilter },
    {
      provide: APP_PIPE,
      // Always registered, a no-op when disabled: no second code path.
      useFactory: (options: ErrorsOptions) =>
        resolveErrorsOptions(options).validation ? new ProblemValidationPipe() : passThrough,
      inject: [ERRORS_OPTIONS],
    },
  ],
  exports: [ProblemResponder],
})
export class ErrorsModule extends ErrorsModuleClass {}
