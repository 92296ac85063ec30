import { describe, expect, it } from 'vitest';
import { analyzeText } from './text-analysis.js';

const SIMPLE = 'The cat sat on the mat. The dog ran to the sun. It was fun.';
const COMPLEX =
  'Institutional considerations necessitate comprehensive organizational restructuring, ' +
  'notwithstanding considerable administrative opposition, particularly regarding ' +
  'interdepartmental communication infrastructure.';

// The Flesch formula's ceiling: one-syllable words in one-word sentences.
const FLESCH_MAX = 206.835 - 1.015 - 84.6;

describe('analyzeText', () => {
  describe('counts', () => {
    it.each([
      ['The cat sat on the mat. The dog ran!', 9, 2],
      [SIMPLE, 15, 3],
      ['Hello world', 2, 1],
      ['Wait... what?! Yes.', 3, 3],
      ["Don't stop-me now. It's fine", 5, 2],
      ['Line one\nLine two.\nLine three!', 6, 2],
      ['Åsa och Örjan är på väg.', 6, 1],
      ['  Leading and trailing space.   ', 4, 1],
    ])('%j has %i words in %i sentences', (text, words, sentences) => {
      expect(analyzeText(text)).toMatchObject({ wordCount: words, sentenceCount: sentences });
    });

    it('counts text after the last full stop as a sentence', () => {
      expect(analyzeText('One sentence. And another without an end').sentenceCount).toBe(2);
    });

    it('does not end a sentence at a dot inside a word', () => {
      expect(analyzeText('See example.com for more.').sentenceCount).toBe(1);
    });
  });

  describe('empty text', () => {
    it.each(['', '   \n\t ', '!!! ...'])(
      '%j has no words, no sentences, no score and no language',
      (text) => {
        expect(analyzeText(text)).toEqual({
          wordCount: 0,
          sentenceCount: 0,
          readabilityScore: 0,
          detectedLanguage: 'und',
        });
      },
    );
  });

  describe('readability', () => {
    it('scores simple text as easy', () => {
      const { readabilityScore } = analyzeText(SIMPLE);

      expect(readabilityScore).toBeGreaterThanOrEqual(80);
      expect(readabilityScore).toBeLessThanOrEqual(FLESCH_MAX);
    });

    it('scores dense, long-worded text as very hard', () => {
      expect(analyzeText(COMPLEX).readabilityScore).toBeLessThan(30);
    });

    it('scores simple text higher than complex text', () => {
      expect(analyzeText(SIMPLE).readabilityScore).toBeGreaterThan(
        analyzeText(COMPLEX).readabilityScore,
      );
    });

    it('scores long sentences lower than the same words in short ones', () => {
      const short = analyzeText('The dog ran. The cat sat. The sun set. The day went.');
      const long = analyzeText('The dog ran the cat sat the sun set the day went.');

      expect(long.readabilityScore).toBeLessThan(short.readabilityScore);
    });

    it('rounds to one decimal', () => {
      for (const text of [SIMPLE, COMPLEX, 'Hello world']) {
        const { readabilityScore } = analyzeText(text);
        expect(Math.round(readabilityScore * 10) / 10).toBe(readabilityScore);
      }
    });
  });

  describe('language', () => {
    it.each([
      ['en', 'The quick brown fox jumps over the lazy dog, and it is happy with the day that was.'],
      ['sv', 'Jag tycker att det är roligt att läsa böcker och skriva uppsatser på svenska.'],
      [
        'de',
        'Ich glaube, dass die Schule nicht einfach ist, und der Lehrer ist streng mit den Schülern.',
      ],
      ['fr', 'Le chat est sur la table et les enfants jouent dans le jardin pour le plaisir.'],
      ['es', 'El perro y el gato están en la casa con los niños para jugar por la tarde.'],
    ])('detects %s', (language, text) => {
      expect(analyzeText(text).detectedLanguage).toBe(language);
    });

    it('ignores case', () => {
      expect(analyzeText('THE CAT AND THE DOG ARE IN THE HOUSE.').detectedLanguage).toBe('en');
    });

    it.each([
      ['gibberish', 'Xqzt vbnm plokij wertyu zzkx. Grobnak flimt quaz.'],
      ['a single function word', 'the'],
      ['words without function words', 'Hello world'],
      ['empty text', ''],
    ])('answers und for %s', (_case, text) => {
      expect(analyzeText(text).detectedLanguage).toBe('und');
    });
  });
});
