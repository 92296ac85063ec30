import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';
import { afterEach, describe, expect, it } from 'vitest';
import { CreateEssayDto } from './create-essay.dto.js';

/** What the app's ValidationPipe does with a JSON body: parse, transform, validate. */
async function validateBody(
  json: string,
): Promise<{ dto: CreateEssayDto; errors: ValidationError[] }> {
  const dto = plainToInstance(CreateEssayDto, JSON.parse(json) as object);
  const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
  return { dto, errors };
}

function check(body: Record<string, unknown>) {
  return validateBody(JSON.stringify(body));
}

/** The messages of the failed constraints, by property. */
function messagesOf(errors: ValidationError[]): Record<string, string[]> {
  return Object.fromEntries(
    errors.map((error) => [error.property, Object.values(error.constraints ?? {})]),
  );
}

const valid = { title: 'On bridges', text: 'Bridges connect places. They also connect people.' };

describe('CreateEssayDto', () => {
  it('accepts a title and a text', async () => {
    const { dto, errors } = await check(valid);

    expect(errors).toEqual([]);
    expect(dto).toEqual({ ...valid });
  });

  describe('title', () => {
    it.each([1, 200])('accepts %i characters', async (length) => {
      expect((await check({ ...valid, title: 'T'.repeat(length) })).errors).toEqual([]);
    });

    it('refuses an empty title', async () => {
      expect(messagesOf((await check({ ...valid, title: '' })).errors).title?.sort()).toEqual([
        'title must be longer than or equal to 1 characters',
        'title must not be blank',
      ]);
    });

    it('refuses 201 characters', async () => {
      expect(messagesOf((await check({ ...valid, title: 'T'.repeat(201) })).errors)).toEqual({
        title: ['title must be shorter than or equal to 200 characters'],
      });
    });

    it.each([' ', '   ', '\t\n'])('refuses the blank title %j', async (title) => {
      expect(messagesOf((await check({ ...valid, title })).errors)).toEqual({
        title: ['title must not be blank'],
      });
    });

    it.each([
      ['a number', 42],
      ['an array', ['On bridges']],
      ['an object', { en: 'On bridges' }],
      ['null', null],
      ['a boolean', true],
    ])('refuses %s', async (_case, title) => {
      expect(messagesOf((await check({ ...valid, title })).errors).title).toContain(
        'title must be a string',
      );
    });

    it('is required', async () => {
      expect(messagesOf((await check({ text: valid.text })).errors).title).toContain(
        'title must be a string',
      );
    });
  });

  describe('text', () => {
    it.each([1, 100_000])('accepts %i characters', async (length) => {
      expect((await check({ ...valid, text: 'x'.repeat(length) })).errors).toEqual([]);
    });

    it('refuses 100001 characters', async () => {
      expect(messagesOf((await check({ ...valid, text: 'x'.repeat(100_001) })).errors)).toEqual({
        text: ['text must be shorter than or equal to 100000 characters'],
      });
    });

    it('refuses an empty text', async () => {
      expect(messagesOf((await check({ ...valid, text: '' })).errors).text).toContain(
        'text must be longer than or equal to 1 characters',
      );
    });

    it('refuses a blank text', async () => {
      expect(messagesOf((await check({ ...valid, text: ' \n\n\t ' })).errors)).toEqual({
        text: ['text must not be blank'],
      });
    });

    it.each([
      ['a number', 7],
      ['an array', ['Bridges']],
      ['null', null],
    ])('refuses %s', async (_case, text) => {
      expect(messagesOf((await check({ ...valid, text })).errors).text).toContain(
        'text must be a string',
      );
    });

    it('is required', async () => {
      expect(messagesOf((await check({ title: valid.title })).errors).text).toContain(
        'text must be a string',
      );
    });
  });

  describe('text the database stores as sent', () => {
    it.each(['title', 'text'])('refuses a NUL character in the %s', async (field) => {
      expect(messagesOf((await check({ ...valid, [field]: 'before\u0000after' })).errors)).toEqual({
        [field]: [`${field} must not contain the NUL character (U+0000)`],
      });
    });

    it.each([
      ['a lone high surrogate', 'a\uD83D'],
      ['a lone low surrogate', '\uDE00b'],
      ['reversed halves', '\uDE00\uD83D'],
    ])('refuses %s in the title', async (_case, title) => {
      expect(messagesOf((await check({ ...valid, title })).errors)).toEqual({
        title: ['title must be valid Unicode (no unpaired surrogate)'],
      });
    });

    // The varchar(200) column counts code points: "a\uFE0F" is two of them,
    // though class-validator's @Length counts it as one.
    it('counts a variation selector as the character it is', async () => {
      expect((await check({ ...valid, title: 'a\uFE0F'.repeat(100) })).errors).toEqual([]);
      expect(messagesOf((await check({ ...valid, title: 'a\uFE0F'.repeat(101) })).errors)).toEqual({
        title: ['title must be shorter than or equal to 200 characters'],
      });
    });

    // An emoji outside the BMP is one code point and two UTF-16 units.
    it('counts a surrogate pair as one character', async () => {
      expect((await check({ ...valid, title: '😀'.repeat(200) })).errors).toEqual([]);
      expect(messagesOf((await check({ ...valid, title: '😀'.repeat(201) })).errors)).toEqual({
        title: ['title must be shorter than or equal to 200 characters'],
      });
    });
  });

  describe('language', () => {
    it('is optional', async () => {
      const { dto, errors } = await check(valid);

      expect(errors).toEqual([]);
      expect(dto.language).toBeUndefined();
    });

    it.each([
      ['en', 'en'],
      ['sv', 'sv'],
      ['SV', 'sv'],
      [' De ', 'de'],
    ])('accepts %j as %j', async (language, expected) => {
      const { dto, errors } = await check({ ...valid, language });

      expect(errors).toEqual([]);
      expect(dto.language).toBe(expected);
    });

    it.each(['english', 'eng', 'xx', 'en-US', '', 'e', 5])('refuses %j', async (language) => {
      expect(messagesOf((await check({ ...valid, language })).errors)).toEqual({
        language: ['language must be an ISO 639-1 code such as en or sv'],
      });
    });
  });

  describe('unknown fields', () => {
    it('refuses a field the DTO does not declare', async () => {
      expect(messagesOf((await check({ ...valid, status: 'processed' })).errors)).toEqual({
        status: ['property status should not exist'],
      });
    });

    it('reports every invalid field at once', async () => {
      const { errors } = await check({ title: '', text: 5, language: 'xx', id: 'mine' });

      expect(errors.map((error) => error.property).sort()).toEqual([
        'id',
        'language',
        'text',
        'title',
      ]);
    });
  });

  describe('prototype pollution', () => {
    afterEach(() => {
      delete (Object.prototype as Record<string, unknown>).polluted;
    });

    it.each([
      ['__proto__', '{"title":"T","text":"x","__proto__":{"polluted":"yes"}}'],
      [
        'constructor.prototype',
        '{"title":"T","text":"x","constructor":{"prototype":{"polluted":"yes"}}}',
      ],
    ])('a %s key in the body is dropped and pollutes nothing', async (_case, json) => {
      const { dto, errors } = await validateBody(json);

      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
      expect(Object.getPrototypeOf(dto)).toBe(CreateEssayDto.prototype);
      expect((dto as unknown as Record<string, unknown>).polluted).toBeUndefined();
      expect(errors).toEqual([]);
      expect(dto).toEqual({ title: 'T', text: 'x' });
    });

    it('a __proto__ key cannot smuggle in a field that skips validation', async () => {
      const { dto, errors } = await validateBody(
        '{"title":"T","text":"x","__proto__":{"title":"","status":"processed"}}',
      );

      expect(errors).toEqual([]);
      expect(dto.title).toBe('T');
      expect((dto as unknown as Record<string, unknown>).status).toBeUndefined();
    });
  });
});
