import { Module } from '@nestjs/common';
import { APP_FILTER, ModuleRef } from '@nestjs/core';
import { HttpPipelineModule } from '../http/http-pipeline.module.js';
import { ProblemExceptionFilter } from './problem-exception.filter.js';
import { ProblemResponder } from './problem-responder.js';
import { serviceConfigProvider } from '../config/default-service-config.js';
import { ERRORS_OPTIONS } from './errors.module-definition.js';
import type { ErrorsOptions } from './errors.options.js';

/**
 * The problem+json answer itself: ProblemResponder and the global exception
 * filter. Static, so Nest keeps one instance however many modules import it:
 * ErrorsModule does, and so do the concerns that refuse requests
 * (SecurityModule's 401 and 429), which then answer as problems when imported
 * alone. Its options (ERRORS_OPTIONS) come from ErrorsModule when it is
 * there; otherwise the defaults apply.
 */
@Module({
  imports: [HttpPipelineModule],
  providers: [
    ProblemResponder,
    // The configured dependencies' URLs name a bare connection error's dependency.
    serviceConfigProvider,
    {
      provide: APP_FILTER,
      // The app's subclass when `exceptionFilter` names one.
      useFactory: (moduleRef: ModuleRef, options: ErrorsOptions | undefined) =>
        moduleRef.create(options?.exceptionFilter ?? ProblemExceptionFilter),
      inject: [ModuleRef, { token: ERRORS_OPTIONS, optional: true }],
    },
  ],
  exports: [ProblemResponder],
})
export class ProblemResponseModule {}
