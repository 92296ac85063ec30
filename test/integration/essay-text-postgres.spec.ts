import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  startEssayService,
  uniqueServiceName,
  type RunningEssayService,
} from '../support/essay-service.js';
import { expectNoInternals, expectProblem } from '../support/problem-response.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

// Odd but valid JSON strings: each is either stored and read back exactly,
// or refused with 400 naming the field. The database never answers for the
// validator with a 500.
describe.each([
  ['the embedded SQLite database', false],
  ['PostgreSQL', true],
])('essay text on %s', (_database, isPostgres) => {
  let database: TestDatabase | undefined;
  let service: RunningEssayService;

  beforeAll(async () => {
    database = isPostgres ? await createTestDatabase('essay_text') : undefined;
    service = await startEssayService({
      env: {
        DATABASE_URL: database?.url ?? 'sqlite::memory:',
        SERVICE_NAME: uniqueServiceName('essay-text'),
      },
    });
  });

  afterAll(async () => {
    await service?.close();
    await database?.drop();
  });

  const TEXT = 'A text of a few words.';

  /** POSTs the essay, expects 202 and reads it back. */
  const storedEssay = async (essay: { title: string; text: string }) => {
    const accepted = await service.http.post('/essays').send(essay);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    const read = await service.http.get(`/essays/${(accepted.body as { id: string }).id}`);
    expect(read.status).toBe(200);
    return read.body as { title: string; text: string };
  };

  const expectRefused = async (
    essay: { title: string; text: string },
    error: { field: string; message: string },
  ) => {
    const response = await service.http.post('/essays').send(essay);
    expectProblem(response, {
      status: 400,
      code: 'VALIDATION_FAILED',
      title: 'Bad Request',
      detail: 'The request has 1 invalid field.',
      instance: '/essays',
      errors: [error],
    });
    expectNoInternals(response);
  };

  afterEach(async () => {
    // Nothing above made the service unhealthy.
    expect((await service.http.get('/readyz')).status).toBe(200);
  });

  it.each(['title', 'text'] as const)(
    'refuses a NUL character in the %s with 400',
    async (field) => {
      const essay = { title: 'A title', text: TEXT, [field]: 'before\u0000after' };

      await expectRefused(essay, {
        field,
        message: `${field} must not contain the NUL character (U+0000)`,
      });
    },
  );

  it('refuses an unpaired surrogate, which no database stores as sent', async () => {
    await expectRefused(
      { title: 'broken \uD83D pair', text: TEXT },
      { field: 'title', message: 'title must be valid Unicode (no unpaired surrogate)' },
    );
  });

  // "a\uFE0F" is one character to class-validator's @Length and two to the
  // varchar(200) column: 150 of them are 300 characters.
  it('refuses 150 × "a" + U+FE0F: 300 characters to the varchar(200) column', async () => {
    await expectRefused(
      { title: 'a\uFE0F'.repeat(150), text: TEXT },
      { field: 'title', message: 'title must be shorter than or equal to 200 characters' },
    );
  });

  it.each([
    ['100 × "a" + U+FE0F (200 code points)', 'a\uFE0F'.repeat(100)],
    ['200 emoji outside the BMP (400 UTF-16 units)', '😀'.repeat(200)],
    [
      '198 letters and a heart with its variation selector (200 code points)',
      `${'h'.repeat(198)}❤️`,
    ],
    ['100 letters with a combining accent each (200 code points)', 'e\u0301'.repeat(100)],
  ])('stores and reads back exactly a title of %s', async (_case, title) => {
    const essay = await storedEssay({ title, text: `${TEXT} 👩‍👩‍👧 a\uFE0F e\u0301` });

    expect(essay.title).toBe(title);
    expect(essay.text).toBe(`${TEXT} 👩‍👩‍👧 a\uFE0F e\u0301`);
  });

  it('refuses a batch whose second essay has a NUL in its title, naming that essay’s field', async () => {
    const response = await service.http.post('/batches').send({
      essays: [
        { title: 'Fine', text: TEXT },
        { title: 'a\u0000b', text: TEXT },
      ],
    });

    expectProblem(response, {
      status: 400,
      code: 'VALIDATION_FAILED',
      title: 'Bad Request',
      detail: 'The request has 1 invalid field.',
      instance: '/batches',
      errors: [
        { field: 'essays.1.title', message: 'title must not contain the NUL character (U+0000)' },
      ],
    });
  });

  it('refuses 201 emoji: one past the limit however the text is encoded', async () => {
    await expectRefused(
      { title: '😀'.repeat(201), text: TEXT },
      { field: 'title', message: 'title must be shorter than or equal to 200 characters' },
    );
  });
});
