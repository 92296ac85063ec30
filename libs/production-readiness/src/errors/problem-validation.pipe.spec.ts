import type { ArgumentMetadata } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Min, ValidateNested } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { ProblemValidationPipe } from './problem-validation.pipe.js';
import { isServiceError, type ServiceError } from './service-error.js';

class AuthorDto {
  @IsString()
  name!: string;
}

class EssayDto {
  @IsString()
  @Length(1, 10)
  title!: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  pages?: number;

  @IsOptional()
  @ValidateNested()
  @Type(() => AuthorDto)
  author?: AuthorDto;
}

const body: ArgumentMetadata = { type: 'body', metatype: EssayDto };
const query: ArgumentMetadata = { type: 'query', metatype: EssayDto };

async function failureOf(promise: Promise<unknown>): Promise<ServiceError> {
  const error = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  if (!isServiceError(error)) throw new Error(`Expected a ServiceError, got ${String(error)}`);
  return error;
}

describe('ProblemValidationPipe', () => {
  const pipe = new ProblemValidationPipe();

  it('returns a valid body as an instance of its DTO, converted', async () => {
    const result = await pipe.transform(
      { title: 'Cats', pages: '3', author: { name: 'Ada' } },
      body,
    );

    expect(result).toBeInstanceOf(EssayDto);
    expect(result).toEqual({ title: 'Cats', pages: 3, author: { name: 'Ada' } });
  });

  it('fails with VALIDATION_FAILED and one { field, message } per broken rule', async () => {
    const error = await failureOf(pipe.transform({ title: '', pages: 0 }, body));

    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.status).toBe(400);
    expect(error.message).toBe('The request has 2 invalid fields.');
    expect(error.errors).toEqual([
      { field: 'title', message: 'title must be longer than or equal to 1 characters' },
      { field: 'pages', message: 'pages must not be less than 1' },
    ]);
  });

  it('names a nested field by its path', async () => {
    const error = await failureOf(pipe.transform({ title: 'Cats', author: { name: 42 } }, body));

    expect(error.errors).toEqual([{ field: 'author.name', message: 'name must be a string' }]);
  });

  it('refuses a field the DTO does not declare', async () => {
    const error = await failureOf(pipe.transform({ title: 'Cats', isAdmin: true }, body));

    expect(error.errors).toEqual([
      { field: 'isAdmin', message: 'property isAdmin should not exist' },
    ]);
    expect(error.message).toBe('The request has 1 invalid field.');
  });

  describe('prototype-pollution keys', () => {
    it.each([
      ['__proto__ at the top', '{"title":"Cats","__proto__":{"isAdmin":true}}', '__proto__'],
      [
        'constructor at the top',
        '{"title":"Cats","constructor":{"prototype":{"isAdmin":true}}}',
        'constructor',
      ],
      ['prototype at the top', '{"title":"Cats","prototype":{}}', 'prototype'],
      [
        '__proto__ nested',
        '{"title":"Cats","author":{"name":"Ada","__proto__":{"isAdmin":true}}}',
        'author.__proto__',
      ],
      [
        '__proto__ in an array',
        '{"title":"Cats","tags":[{"__proto__":{"x":1}}]}',
        'tags.0.__proto__',
      ],
    ])('refuses %s in a body, naming it', async (_case, json, field) => {
      // JSON.parse, as body-parser calls it, makes __proto__ an own key.
      const parsed: unknown = JSON.parse(json);

      const error = await failureOf(pipe.transform(parsed, body));

      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.errors).toEqual([{ field, message: `${field} is not an allowed field name` }]);
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    });

    it('refuses them in a query too', async () => {
      const parsed: unknown = JSON.parse('{"title":"Cats","__proto__":{"isAdmin":"true"}}');

      const error = await failureOf(pipe.transform(parsed, query));

      expect(error.errors).toEqual([
        { field: '__proto__', message: '__proto__ is not an allowed field name' },
      ]);
    });

    it('lets a value (not a key) named __proto__ through', async () => {
      await expect(pipe.transform({ title: '__proto__' }, body)).resolves.toEqual({
        title: '__proto__',
      });
    });
  });

  it('leaves a value without a DTO class alone', async () => {
    const raw = { anything: 'goes' };

    await expect(pipe.transform(raw, { type: 'body', metatype: Object })).resolves.toEqual(raw);
    await expect(
      pipe.transform('42', { type: 'param', metatype: String, data: 'id' }),
    ).resolves.toBe('42');
  });
});
