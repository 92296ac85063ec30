import type { Response } from 'supertest';
import { expect } from 'vitest';

/** The fields of an RFC 9457 problem+json body, as the library writes them. */
export interface ExpectedProblem {
  status: number;
  code: string;
  title: string;
  /** The exact detail, or a pattern for one that carries a value. */
  detail: string | RegExp;
  instance: string;
  errors?: Array<{ field: string; message: string | RegExp }>;
  /** The correlation id the client sent; otherwise any id, equal to the header's. */
  correlationId?: string;
}

/** `VALIDATION_FAILED` → `validation-failed`. */
export function kebabCode(code: string): string {
  return code.toLowerCase().replace(/_/g, '-');
}

/**
 * Asserts what a client sees of an error: the status, the problem+json
 * content type, every field of the body, and the same correlation id in the
 * body and the `X-Correlation-ID` header. Returns that id.
 */
export function expectProblem(response: Response, expected: ExpectedProblem): string {
  expect(response.status).toBe(expected.status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json(;|$)/);
  const headerId = response.headers['x-correlation-id'] as string | undefined;
  expect(headerId).toBeTruthy();
  const body = JSON.parse(response.text) as Record<string, unknown>;
  expect(body).toEqual({
    type: `urn:problem-type:${kebabCode(expected.code)}`,
    title: expected.title,
    status: expected.status,
    detail:
      typeof expected.detail === 'string'
        ? expected.detail
        : (expect.stringMatching(expected.detail) as unknown),
    instance: expected.instance,
    code: expected.code,
    correlationId: expected.correlationId ?? headerId,
    ...(expected.errors && {
      errors: expected.errors.map(({ field, message }) => ({
        field,
        message:
          typeof message === 'string' ? message : (expect.stringMatching(message) as unknown),
      })),
    }),
  });
  expect(body.correlationId).toBe(headerId);
  return headerId as string;
}

/** Things that must never reach a client: secrets, paths, source files, SQL, stacks. */
export const INTERNALS = ['hunter2', 'at /', '.ts', 'SELECT', 'stack', 'node_modules', 'Error:'];

/** Asserts the raw body text carries none of INTERNALS. */
export function expectNoInternals(response: Response): void {
  for (const internal of INTERNALS) expect(response.text).not.toContain(internal);
}
