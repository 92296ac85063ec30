export { classifyError, UNEXPECTED_DETAIL, type ClassifiedError } from './classify-error.js';
export { ERROR_CODE_STATUS, ErrorCode, errorCodeForStatus } from './error-code.js';
export { ErrorsModule } from './errors.module.js';
export { ERRORS_OPTIONS } from './errors.module-definition.js';
export type { ErrorsOptions } from './errors.options.js';
export { PROBLEM_CONTENT_TYPE, type ProblemDetails } from './problem-details.js';
export { ProblemExceptionFilter } from './problem-exception.filter.js';
export {
  ProblemResponder,
  type ProblemRequest,
  type ProblemResponse,
} from './problem-responder.js';
export { ProblemValidationPipe, validationFailed } from './problem-validation.pipe.js';
export {
  isServiceError,
  ServiceError,
  type FieldError,
  type ServiceErrorOptions,
} from './service-error.js';
