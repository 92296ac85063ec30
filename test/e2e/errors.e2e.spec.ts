import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoomController } from '../support/boom.controller.js';
import {
  startCapturedEssayService,
  type CapturedEssayService,
} from '../support/captured-essay-service.js';
import type { HttpAgent } from '../support/essay-service.js';
import {
  expectNoInternals,
  expectProblem,
  type ExpectedProblem,
} from '../support/problem-response.js';

const MISSING_ESSAY = '6f1c2a4e-3b7d-4c9a-8e2f-1a2b3c4d5e6f';
const UNEXPECTED_DETAIL =
  'An unexpected error occurred. Quote the correlation id when reporting it.';

interface ErrorCase extends ExpectedProblem {
  name: string;
  send: (http: HttpAgent) => PromiseLike<Response>;
  /** Headers the answer must carry besides the correlation id. */
  headers?: Record<string, string>;
}

// Every error a client can cause, each answered with a problem+json body and
// logged once at warn. The 500 has its own test below.
const EXPECTED_ERRORS: ErrorCase[] = [
  {
    name: 'an invalid body',
    send: (http) => http.post('/essays').send({ title: 'T', text: 'Fine.', author: 'Ada' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    title: 'Bad Request',
    detail: 'The request has 1 invalid field.',
    instance: '/essays',
    errors: [{ field: 'author', message: 'property author should not exist' }],
  },
  {
    name: 'a body with two invalid fields',
    send: (http) => http.post('/essays').send({ title: '   ', text: 'Fine.', language: 'english' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    title: 'Bad Request',
    detail: 'The request has 2 invalid fields.',
    instance: '/essays',
    errors: [
      { field: 'title', message: 'title must not be blank' },
      { field: 'language', message: 'language must be an ISO 639-1 code such as en or sv' },
    ],
  },
  {
    name: 'malformed JSON',
    send: (http) =>
      http
        .post('/essays')
        .set('Content-Type', 'application/json')
        .send('{"title": "Broken", "text": '),
    status: 400,
    code: 'MALFORMED_REQUEST',
    title: 'Bad Request',
    detail: 'The request body is not valid JSON.',
    instance: '/essays',
  },
  {
    name: 'a path parameter that is not a UUID',
    send: (http) => http.get('/essays/not-a-uuid?x=1'),
    status: 400,
    code: 'MALFORMED_REQUEST',
    title: 'Bad Request',
    detail: 'Validation failed (uuid is expected)',
    instance: '/essays/not-a-uuid',
  },
  {
    name: 'a body over 1 MiB',
    send: (http) => http.post('/essays').send({ title: 'Too big', text: 'x'.repeat(1_100_000) }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    title: 'Payload Too Large',
    detail: 'The request body is larger than this service accepts.',
    instance: '/essays',
  },
  {
    name: 'a text/plain body',
    send: (http) => http.post('/essays').set('Content-Type', 'text/plain').send('title=T'),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    title: 'Unsupported Media Type',
    detail: 'The request body has an unsupported Content-Type; send application/json.',
    instance: '/essays',
  },
  {
    name: 'an XML body',
    send: (http) => http.post('/essays').set('Content-Type', 'application/xml').send('<essay/>'),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    title: 'Unsupported Media Type',
    detail: 'The request body has an unsupported Content-Type; send application/json.',
    instance: '/essays',
  },
  {
    name: 'an unknown route',
    send: (http) => http.get('/no/such/route?token=abc'),
    status: 404,
    code: 'NOT_FOUND',
    title: 'Not Found',
    detail: 'No resource at this path.',
    instance: '/no/such/route',
  },
  {
    name: 'an essay that does not exist (ServiceError NOT_FOUND)',
    send: (http) => http.get(`/essays/${MISSING_ESSAY}`),
    status: 404,
    code: 'NOT_FOUND',
    title: 'Not Found',
    detail: `No essay with id ${MISSING_ESSAY}.`,
    instance: `/essays/${MISSING_ESSAY}`,
  },
  {
    name: 'GET on a POST-only path',
    send: (http) => http.get('/essays'),
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
    title: 'Method Not Allowed',
    detail: 'GET is not allowed here; use POST.',
    instance: '/essays',
    headers: { allow: 'POST' },
  },
  {
    name: 'DELETE on a GET-only path',
    send: (http) => http.delete(`/essays/${MISSING_ESSAY}`),
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
    title: 'Method Not Allowed',
    detail: 'DELETE is not allowed here; use GET, HEAD.',
    instance: `/essays/${MISSING_ESSAY}`,
    headers: { allow: 'GET, HEAD' },
  },
  {
    name: "an HttpException('I am a teapot', 418)",
    send: (http) => http.get('/teapot'),
    status: 418,
    // A status without a code of the library's gets one made from its name.
    code: 'IM_A_TEAPOT',
    title: "I'm a Teapot",
    detail: 'I am a teapot',
    instance: '/teapot',
  },
  {
    name: 'a ServiceError(CONFLICT)',
    send: (http) => http.get('/conflict'),
    status: 409,
    code: 'CONFLICT',
    title: 'Conflict',
    detail: 'Already there',
    instance: '/conflict',
  },
];

describe.each(['express', 'fastify'] as const)('problem+json errors on %s', (adapter) => {
  let service: CapturedEssayService;

  beforeAll(async () => {
    service = await startCapturedEssayService({ adapter, controllers: [BoomController] });
  });

  afterAll(async () => {
    await service?.close();
  });

  /** The lines of one request, once its access line is written. */
  async function linesOf(correlationId: string) {
    await service.logs.waitForLine(
      (line) => line.correlationId === correlationId && line.msg === 'request completed',
      5_000,
      `the access line of ${correlationId}`,
    );
    return service.logs.withCorrelationId(correlationId);
  }

  it.each(EXPECTED_ERRORS)(
    'answers $name with $status $code, logged once at warn',
    async (errorCase) => {
      const response = await errorCase.send(service.http);

      const correlationId = expectProblem(response, errorCase);
      for (const [name, value] of Object.entries(errorCase.headers ?? {})) {
        expect(response.headers[name]).toBe(value);
      }
      expectNoInternals(response);

      const lines = await linesOf(correlationId);
      const errorLines = lines.filter((line) => line.context === 'Errors');
      expect(errorLines).toEqual([
        expect.objectContaining({
          level: 'warn',
          msg: 'Request failed',
          code: errorCase.code,
          status: errorCase.status,
          path: errorCase.instance,
        }),
      ]);
      expect(errorLines[0]).not.toHaveProperty('err');
      expect(lines.filter((line) => line.level === 'error' || line.level === 'fatal')).toEqual([]);
    },
  );

  it('answers an unexpected error with 500 INTERNAL and a generic detail, leaking nothing', async () => {
    const response = await service.http.get('/boom');

    expectProblem(response, {
      status: 500,
      code: 'INTERNAL',
      title: 'Internal Server Error',
      detail: UNEXPECTED_DETAIL,
      instance: '/boom',
    });
    expectNoInternals(response);
    expect(response.text).not.toContain('password');
    expect(response.text).not.toContain('BoomController');
  });

  it('logs an unexpected error once, at error, with its stack and the correlation id', async () => {
    const response = await service.http.get('/boom').set('X-Correlation-ID', `boom-${adapter}`);
    expect(response.status).toBe(500);

    const lines = await linesOf(`boom-${adapter}`);
    const errorLines = lines.filter((line) => line.msg !== 'request completed');
    expect(errorLines).toEqual([
      expect.objectContaining({
        level: 'error',
        context: 'Errors',
        msg: 'Unexpected error',
        correlationId: `boom-${adapter}`,
        code: 'INTERNAL',
        status: 500,
        errorType: 'Error',
        method: 'GET',
        path: '/boom',
        err: expect.objectContaining({
          type: 'Error',
          message: 'db password=hunter2 at /srv/app/secret.ts',
          stack: expect.stringMatching(
            /^Error: db password=hunter2[^\n]*\n\s+at BoomController\.boom /,
          ) as unknown,
        }) as unknown,
      }),
    ]);
    // The access line says 500 too, at error, but without a second stack.
    const [access] = lines.filter((line) => line.msg === 'request completed');
    expect(access).toMatchObject({ level: 'error', status: 500, route: '/boom' });
    expect(JSON.stringify(access)).not.toContain('stack');
  });

  it('refuses a __proto__ key with 400 and pollutes nothing', async () => {
    const response = await service.http
      .post('/essays')
      .set('Content-Type', 'application/json')
      .send('{"title":"T","text":"Fine.","__proto__":{"polluted":true}}');

    // Express parses the key and the validation pipe names it; Fastify's
    // parser (secure-json-parse) refuses the body as a whole.
    const expected: ExpectedProblem =
      adapter === 'express'
        ? {
            status: 400,
            code: 'VALIDATION_FAILED',
            title: 'Bad Request',
            detail: 'The request has 1 invalid field.',
            instance: '/essays',
            errors: [{ field: '__proto__', message: '__proto__ is not an allowed field name' }],
          }
        : {
            status: 400,
            code: 'MALFORMED_REQUEST',
            title: 'Bad Request',
            detail: 'The request body is not valid JSON.',
            instance: '/essays',
          };
    expectProblem(response, expected);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a constructor key, nested too, with 400 VALIDATION_FAILED naming it', async () => {
    const response = await service.http
      .post('/essays')
      .set('Content-Type', 'application/json')
      .send('{"title":"T","text":"Fine.","meta":{"constructor":{"name":"x"}}}');

    expectProblem(response, {
      status: 400,
      code: 'VALIDATION_FAILED',
      title: 'Bad Request',
      detail: 'The request has 1 invalid field.',
      instance: '/essays',
      errors: [
        { field: 'meta.constructor', message: 'meta.constructor is not an allowed field name' },
      ],
    });
  });

  it('answers a HEAD on an unknown route with 404 and no body', async () => {
    const response = await service.http.head('/no/such/route');

    expect(response.status).toBe(404);
    expect(response.headers['x-correlation-id']).toBeTruthy();
    expect(response.text ?? '').toBe('');
  });
});
