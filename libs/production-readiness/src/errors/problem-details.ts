import { STATUS_CODES } from 'node:http';
import type { ClassifiedError } from './classify-error.js';
import type { FieldError } from './service-error.js';

/** An RFC 9457 problem object, as every error response of the service carries. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  correlationId: string;
  /** The trace id of the request or message, present only when it is traced. */
  traceId?: string;
  errors?: FieldError[];
  /** Extension members (RFC 9457 §3.2): what an app's own HttpException said besides its message. */
  [extension: string]: unknown;
}

/** The members the library defines; an extension never takes one of these names. */
export const PROBLEM_MEMBERS: ReadonlySet<string> = new Set([
  'type',
  'title',
  'status',
  'detail',
  'instance',
  'code',
  'correlationId',
  'traceId',
  'errors',
]);

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problemTypeFor(code: string, typeBaseUri: string): string {
  return `${typeBaseUri}${code.toLowerCase().replace(/_/g, '-')}`;
}

/** Builds the problem object for a classified error. */
export function toProblem(
  classified: ClassifiedError,
  context: { instance: string; correlationId: string; typeBaseUri: string; traceId?: string },
): ProblemDetails {
  const problem: ProblemDetails = {
    type: problemTypeFor(classified.code, context.typeBaseUri),
    title: STATUS_CODES[classified.status] ?? 'Error',
    status: classified.status,
    detail: classified.detail,
    instance: context.instance,
    code: classified.code,
    correlationId: context.correlationId,
  };
  if (context.traceId !== undefined) problem.traceId = context.traceId;
  if (classified.errors) problem.errors = classified.errors;
  for (const [name, value] of Object.entries(classified.extensions ?? {})) {
    if (!PROBLEM_MEMBERS.has(name)) problem[name] = value;
  }
  return problem;
}
