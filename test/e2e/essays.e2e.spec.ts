import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startEssayService,
  submitEssay,
  waitForProcessed,
  type EssayBody,
  type RunningEssayService,
} from '../support/essay-service.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TEXT = 'The cat sat on the mat. It was happy!';

/** `count` words of 4 characters each, one space after each: 5 × count characters. */
function asciiWords(count: number): string {
  return 'word '.repeat(count);
}

describe.each(['express', 'fastify'] as const)(
  'essays API on %s (SQLite in memory, in-process bus)',
  (adapter) => {
    let service: RunningEssayService;

    beforeAll(async () => {
      // A short analysis delay makes the pending state observable.
      service = await startEssayService({ adapter, env: { ESSAY_ANALYSIS_DELAY_MS: '500' } });
    });

    afterAll(async () => {
      await service?.close();
    });

    describe('POST /essays then GET /essays/:id', () => {
      it('accepts an essay with 202 and a Location, shows it pending, then processed with its results', async () => {
        const accepted = await service.http.post('/essays').send({ title: 'Cats', text: TEXT });

        expect(accepted.status).toBe(202);
        const { id } = accepted.body as { id: string };
        expect(id).toMatch(UUID_V4);
        expect(accepted.body).toEqual({ id, status: 'pending' });
        expect(accepted.headers.location).toBe(`/essays/${id}`);

        const pending = await service.http.get(`/essays/${id}`);
        expect(pending.status).toBe(200);
        expect(pending.body).toMatchObject({
          id,
          title: 'Cats',
          text: TEXT,
          language: null,
          status: 'pending',
          processedAt: null,
          results: null,
        });

        const processed = await waitForProcessed(service.http, id);
        expect(processed.results).toEqual({
          wordCount: 9,
          sentenceCount: 2,
          readabilityScore: 108.3,
          detectedLanguage: 'en',
        });
        const createdAt = Date.parse(processed.createdAt);
        const processedAt = Date.parse(processed.processedAt ?? '');
        expect(createdAt).not.toBeNaN();
        // SQLite stores created_at to the second; processed_at keeps milliseconds.
        expect(processedAt).toBeGreaterThanOrEqual(createdAt);
      });

      it('returns the given language trimmed and lowercase', async () => {
        const upper = await submitEssay(service.http, {
          title: 'Upper',
          text: TEXT,
          language: 'EN',
        });
        const padded = await submitEssay(service.http, {
          title: 'Padded',
          text: 'Hej.',
          language: ' Sv ',
        });

        expect((await service.http.get(`/essays/${upper}`)).body).toMatchObject({ language: 'en' });
        expect((await service.http.get(`/essays/${padded}`)).body).toMatchObject({
          language: 'sv',
        });
      });

      it('answers 404 for a well-formed id that names no essay', async () => {
        const response = await service.http.get('/essays/6f1c2a4e-3b7d-4c9a-8e2f-1a2b3c4d5e6f');

        expect(response.status).toBe(404);
      });

      it('answers 400 for an id that is not a UUID', async () => {
        const response = await service.http.get('/essays/not-a-uuid');

        expect(response.status).toBe(400);
      });
    });

    describe('POST /essays validation', () => {
      const invalidBodies: Array<[string, Record<string, unknown>, string]> = [
        ['a missing title', { text: TEXT }, 'title'],
        ['a title of spaces only', { title: '   ', text: TEXT }, 'title'],
        ['a 201-character title', { title: 'x'.repeat(201), text: TEXT }, 'title'],
        ['a title that is not a string', { title: 42, text: TEXT }, 'title'],
        ['a missing text', { title: 'No text' }, 'text'],
        ['an empty text', { title: 'Empty', text: '' }, 'text'],
        ['a text of 100,001 characters', { title: 'Long', text: `${asciiWords(20_000)}x` }, 'text'],
        [
          'a language that is not ISO 639-1',
          { title: 'T', text: TEXT, language: 'english' },
          'language',
        ],
        ['an unknown field', { title: 'T', text: TEXT, author: 'Ada' }, 'author'],
      ];

      it.each(invalidBodies)('rejects %s with 400 naming the field', async (_case, body, field) => {
        const response = await service.http.post('/essays').send(body);

        expect(response.status).toBe(400);
        expect(JSON.stringify(response.body)).toContain(field);
      });

      it('rejects a malformed JSON body with 400', async () => {
        const response = await service.http
          .post('/essays')
          .set('Content-Type', 'application/json')
          .send('{"title": "Broken", "text": ');

        expect(response.status).toBe(400);
      });

      it('accepts a 200-character title', async () => {
        const response = await service.http
          .post('/essays')
          .send({ title: 'x'.repeat(200), text: TEXT });

        expect(response.status).toBe(202);
      });
    });

    describe('large essays (the body limit is 1 MB)', () => {
      it('accepts and analyses a 100,000-character text', async () => {
        const text = asciiWords(20_000);
        expect(text).toHaveLength(100_000);

        const id = await submitEssay(service.http, { title: 'Long', text });
        const essay = await waitForProcessed(service.http, id);

        expect(essay.results).toMatchObject({ wordCount: 20_000, sentenceCount: 1 });
        expect(essay.text).toBe(text);
      });

      it('accepts a 100,000-character text of 4-byte characters (about 400 KB) and returns it intact', async () => {
        // CJK Extension B letters: one character each, two UTF-16 units, four UTF-8 bytes.
        const word = '𠜎𠜱𠝹𠱓𠱸𠲖𠳏𠳕𠴕';
        const text = `${word} `.repeat(10_000);
        expect([...text]).toHaveLength(100_000);
        expect(Buffer.byteLength(text)).toBe(370_000);

        const accepted = await service.http.post('/essays').send({ title: 'Multibyte', text });
        expect(accepted.status).toBe(202);
        const essay: EssayBody = await waitForProcessed(
          service.http,
          (accepted.body as { id: string }).id,
        );

        expect(essay.text).toBe(text);
        expect(essay.results).toMatchObject({ wordCount: 10_000 });
      });

      it('rejects a body over 1 MB with 413', async () => {
        const response = await service.http
          .post('/essays')
          .send({ title: 'Too big', text: 'x'.repeat(1_100_000) });

        expect(response.status).toBe(413);
      });
    });
  },
);
