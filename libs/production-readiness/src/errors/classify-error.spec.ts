import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  HttpException,
  NotFoundException,
  NotImplementedException,
  PayloadTooLargeException,
  ServiceUnavailableException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { classifyError, UNEXPECTED_DETAIL } from './classify-error.js';
import { ErrorCode } from './error-code.js';
import { ServiceError } from './service-error.js';

/** An error as body-parser makes it (http-errors with a `type`). */
function bodyParserError(type: string, status: number, message: string): Error {
  return Object.assign(new Error(message), { type, status, statusCode: status, expose: true });
}

/** An error as Fastify makes it (a FastifyError with a `code`). */
function fastifyError(code: string, statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { code, statusCode });
}

describe('classifyError', () => {
  describe('a ServiceError', () => {
    it('keeps its code, status, message, field errors, headers and log details', () => {
      const error = new ServiceError(
        ErrorCode.VALIDATION_FAILED,
        'The request has 1 invalid field.',
        {
          errors: [{ field: 'title', message: 'title must not be blank' }],
          headers: { 'retry-after': '5' },
          details: { essayId: 'e1' },
        },
      );

      expect(classifyError(error)).toEqual({
        status: 400,
        code: 'VALIDATION_FAILED',
        detail: 'The request has 1 invalid field.',
        errors: [{ field: 'title', message: 'title must not be blank' }],
        headers: { 'retry-after': '5' },
        isExpected: true,
        details: { essayId: 'e1' },
      });
    });

    it.each([
      [ErrorCode.NOT_FOUND, 404],
      [ErrorCode.CONFLICT, 409],
      [ErrorCode.UNAUTHORIZED, 401],
      [ErrorCode.RATE_LIMITED, 429],
    ])('answers %s with %i, an expected failure', (code, status) => {
      expect(classifyError(new ServiceError(code, 'What failed'))).toMatchObject({
        status,
        code,
        detail: 'What failed',
        isExpected: true,
      });
    });

    it("answers a 5xx of its own with its message, logged as the service's failure", () => {
      const error = new ServiceError(
        ErrorCode.DEPENDENCY_UNAVAILABLE,
        'The database did not answer within 2000 ms',
      );

      expect(classifyError(error)).toMatchObject({
        status: 503,
        code: 'DEPENDENCY_UNAVAILABLE',
        detail: 'The database did not answer within 2000 ms',
        isExpected: false,
      });
    });

    it('hides the message of an INTERNAL one behind the generic detail', () => {
      const error = new ServiceError(ErrorCode.INTERNAL, 'invariant broken: row 42 has no owner');

      expect(classifyError(error)).toMatchObject({
        status: 500,
        code: 'INTERNAL',
        detail: UNEXPECTED_DETAIL,
        isExpected: false,
      });
    });

    it('keeps an app-defined code with the status it was given', () => {
      const error = new ServiceError('QUOTA_EXCEEDED', 'Monthly quota used up', { status: 402 });

      expect(classifyError(error)).toMatchObject({
        status: 402,
        code: 'QUOTA_EXCEEDED',
        isExpected: true,
      });
    });

    it('recognizes one from another copy of the package by its brand', () => {
      const foreign = Object.assign(new Error('Already there'), {
        [Symbol.for('nestjs-production-readiness:ServiceError')]: true,
        code: 'CONFLICT',
        status: 409,
      });

      expect(classifyError(foreign)).toMatchObject({
        status: 409,
        code: 'CONFLICT',
        detail: 'Already there',
      });
    });
  });

  describe('a Nest HttpException', () => {
    it.each([
      [
        'BadRequestException',
        new BadRequestException('Bad id'),
        400,
        'MALFORMED_REQUEST',
        'Bad id',
      ],
      ['ForbiddenException', new ForbiddenException(), 403, 'FORBIDDEN', 'Forbidden'],
      [
        'NotFoundException',
        new NotFoundException('No such essay'),
        404,
        'NOT_FOUND',
        'No such essay',
      ],
      [
        'an HttpException(418)',
        new HttpException('I am a teapot', 418),
        418,
        'IM_A_TEAPOT',
        'I am a teapot',
      ],
      [
        'an HttpException(451)',
        new HttpException('Not in your country', 451),
        451,
        'UNAVAILABLE_FOR_LEGAL_REASONS',
        'Not in your country',
      ],
      [
        'an HttpException with a status Node has no name for',
        new HttpException('Client closed the request', 499),
        499,
        'HTTP_499',
        'Client closed the request',
      ],
      [
        'an HttpException with an object body',
        new HttpException({ message: 'Slow down', statusCode: 429 }, 429),
        429,
        'RATE_LIMITED',
        'Slow down',
      ],
    ])(
      'answers %s with its status, a code for it and its message',
      (_name, error, status, code, detail) => {
        expect(classifyError(error)).toEqual({ status, code, detail, isExpected: true });
      },
    );

    it('answers a 5xx the library has no code for with its own code, not INTERNAL', () => {
      expect(classifyError(new NotImplementedException())).toEqual({
        status: 501,
        code: 'NOT_IMPLEMENTED',
        detail: UNEXPECTED_DETAIL,
        isExpected: false,
      });
    });

    it("keeps the code given with Nest's errorCode option", () => {
      const error = new ConflictException('Username taken', { errorCode: 'E_USERNAME_TAKEN' });

      expect(classifyError(error)).toEqual({
        status: 409,
        code: 'E_USERNAME_TAKEN',
        detail: 'Username taken',
        isExpected: true,
      });
    });

    it('leaves out a member whose getter throws, and keeps the others', () => {
      const body = {
        message: 'Out of stock',
        sku: 'A1',
        get warehouse(): string {
          throw new Error('not loaded');
        },
      };

      expect(classifyError(new BadRequestException(body))).toMatchObject({
        detail: 'Out of stock',
        extensions: { sku: 'A1' },
      });
    });

    it('keeps all extension members within 8,192 characters of JSON, dropping those that do not fit', () => {
      const body: Record<string, unknown> = { message: 'Too much' };
      for (let index = 0; index < 20; index += 1) body[`field${index}`] = 'x'.repeat(900);
      body.small = 'kept';

      const { extensions } = classifyError(new BadRequestException(body));

      expect(JSON.stringify(extensions).length).toBeLessThanOrEqual(8_192);
      expect(extensions).toMatchObject({ field0: 'x'.repeat(900), small: 'kept' });
      expect(extensions).not.toHaveProperty('field19');
    });

    it("answers a plain ValidationPipe's list of messages with VALIDATION_FAILED and one error per message", () => {
      const error = new BadRequestException(['title must be a string', 'text should not be empty']);

      expect(classifyError(error)).toEqual({
        status: 400,
        code: 'VALIDATION_FAILED',
        detail: 'The request has 2 invalid fields.',
        errors: [
          { field: 'title', message: 'title must be a string' },
          { field: 'text', message: 'text should not be empty' },
        ],
        isExpected: true,
      });
    });

    it('answers a 422 list of messages with VALIDATION_FAILED too', () => {
      expect(
        classifyError(new UnprocessableEntityException(['language must be a string'])),
      ).toMatchObject({
        status: 422,
        code: 'VALIDATION_FAILED',
        detail: 'The request has 1 invalid field.',
      });
    });

    it('hides the message of a 5xx one, which may not be written for clients', () => {
      const error = new ServiceUnavailableException(
        'pool exhausted: 10/10 connections to db-primary:5432',
      );

      expect(classifyError(error)).toEqual({
        status: 503,
        code: 'DEPENDENCY_UNAVAILABLE',
        detail: UNEXPECTED_DETAIL,
        isExpected: false,
      });
    });
  });

  describe("a body parser's error, raw or wrapped by the adapter in an HttpException", () => {
    // The adapters' mapException(): BadRequestException(error.message, { cause })
    // for a SyntaxError, HttpException(message, statusCode, { cause }) for the rest.
    const cases: Array<[string, Error, number, ErrorCode, string]> = [
      [
        "body-parser's invalid JSON",
        Object.assign(new SyntaxError('Unexpected token } in JSON at position 10'), {
          type: 'entity.parse.failed',
          status: 400,
          body: '{"password": "hunter2"',
        }),
        400,
        ErrorCode.MALFORMED_REQUEST,
        'The request body is not valid JSON.',
      ],
      [
        "body-parser's too large body",
        bodyParserError('entity.too.large', 413, 'request entity too large'),
        413,
        ErrorCode.PAYLOAD_TOO_LARGE,
        'The request body is larger than this service accepts.',
      ],
      [
        "body-parser's unsupported charset",
        bodyParserError('charset.unsupported', 415, 'unsupported charset "KOI8-R"'),
        415,
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        'The request body uses an unsupported charset.',
      ],
      [
        "body-parser's aborted request",
        bodyParserError('request.aborted', 400, 'request aborted'),
        400,
        ErrorCode.MALFORMED_REQUEST,
        'The request was aborted before its body arrived.',
      ],
      [
        "Fastify's invalid JSON",
        fastifyError(
          'FST_ERR_CTP_INVALID_JSON_BODY',
          400,
          "Body is not valid JSON but content-type is set to 'application/json'",
        ),
        400,
        ErrorCode.MALFORMED_REQUEST,
        'The request body is not valid JSON.',
      ],
      [
        "Fastify's empty JSON body",
        fastifyError(
          'FST_ERR_CTP_EMPTY_JSON_BODY',
          400,
          "Body cannot be empty when content-type is set to 'application/json'",
        ),
        400,
        ErrorCode.MALFORMED_REQUEST,
        'The request body is empty although its Content-Type says JSON.',
      ],
      [
        "Fastify's too large body",
        fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413, 'Request body is too large'),
        413,
        ErrorCode.PAYLOAD_TOO_LARGE,
        'The request body is larger than this service accepts.',
      ],
      [
        "Fastify's unsupported media type",
        fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'Unsupported Media Type: text/plain'),
        415,
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        'The request body has an unsupported Content-Type; send application/json.',
      ],
    ];

    it.each(cases)('answers %s raw with our own words', (_name, error, status, code, detail) => {
      expect(classifyError(error)).toEqual({ status, code, detail, isExpected: true });
    });

    it.each(cases)(
      'answers %s wrapped with our own words, not the parser\u2019s',
      (_name, error, status, code, detail) => {
        const wrapped =
          error instanceof SyntaxError
            ? new BadRequestException(error.message, { cause: error })
            : status === 413
              ? new PayloadTooLargeException(error.message, { cause: error })
              : new HttpException(error.message, status, { cause: error });

        expect(classifyError(wrapped)).toEqual({ status, code, detail, isExpected: true });
      },
    );

    it('answers another Fastify client error with a code for its status and a generic detail', () => {
      const error = fastifyError('FST_ERR_BAD_URL', 400, "'/%zz' is not a valid url component");

      expect(classifyError(error)).toEqual({
        status: 400,
        code: 'MALFORMED_REQUEST',
        detail: 'The request could not be read.',
        isExpected: true,
      });
    });
  });

  describe('anything else', () => {
    it.each([
      ['an Error', new Error('db password=hunter2 at /srv/app/secret.ts')],
      ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'id')")],
      ['a string', 'SELECT * FROM essays failed'],
      ['undefined', undefined],
      ['null', null],
      ['an object with a status', { status: 400, message: 'looks like a client error' }],
      ['a 5xx Fastify error', fastifyError('FST_ERR_HANDLER_TIMEOUT', 503, 'handler timed out')],
    ])('answers %s with 500 INTERNAL and the generic detail', (_name, error) => {
      expect(classifyError(error)).toEqual({
        status: 500,
        code: 'INTERNAL',
        detail: UNEXPECTED_DETAIL,
        isExpected: false,
      });
    });
  });
});
