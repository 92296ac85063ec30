/** What the processor measures in an essay. */
export interface TextAnalysis {
  wordCount: number;
  sentenceCount: number;
  /** Flesch reading ease, one decimal: higher is easier (60-70 is plain English). */
  readabilityScore: number;
  /** ISO 639-1 code of the likeliest language, or `und` when it can't tell. */
  detectedLanguage: string;
}

const WORD = /[\p{L}\p{N}][\p{L}\p{M}\p{N}'’-]*/gu;
const SENTENCE_END = /[.!?…]+(?=\s|$)/gu;

// Function words are the cheapest reliable signal for a language: every text
// of a few sentences uses several of them, and they differ between languages.
const STOP_WORDS: Record<string, readonly string[]> = {
  en: ['the', 'and', 'is', 'of', 'to', 'in', 'that', 'it', 'with', 'was', 'for', 'this', 'are'],
  sv: ['och', 'att', 'det', 'som', 'en', 'är', 'på', 'för', 'med', 'inte', 'jag', 'av', 'till'],
  de: ['und', 'der', 'die', 'das', 'ist', 'nicht', 'ich', 'mit', 'sich', 'auf', 'ein', 'zu', 'den'],
  fr: ['le', 'la', 'les', 'et', 'est', 'des', 'une', 'que', 'dans', 'pour', 'pas', 'qui', 'sur'],
  es: ['el', 'la', 'los', 'y', 'es', 'que', 'en', 'una', 'por', 'con', 'para', 'las', 'del'],
  it: ['il', 'di', 'che', 'e', 'la', 'per', 'non', 'una', 'sono', 'gli', 'della', 'con', 'nel'],
  pt: ['o', 'de', 'que', 'e', 'do', 'da', 'em', 'um', 'para', 'não', 'uma', 'os', 'com'],
  nl: ['de', 'het', 'een', 'en', 'van', 'ik', 'te', 'dat', 'die', 'niet', 'zijn', 'op', 'met'],
};
const STOP_WORD_SETS = Object.entries(STOP_WORDS).map(
  ([language, words]) => [language, new Set(words)] as const,
);

function countSyllables(word: string): number {
  const letters = word.toLowerCase().replace(/[^a-zà-ÿ]/g, '');
  if (letters.length === 0) return 1;
  const groups = letters.match(/[aeiouyà-ÿ]+/g)?.length ?? 0;
  const silentE = letters.length > 2 && letters.endsWith('e') && !letters.endsWith('le') ? 1 : 0;
  return Math.max(1, groups - silentE);
}

export function detectLanguage(words: readonly string[]): string {
  let best = 'und';
  let bestHits = 1; // one function word in common proves nothing
  for (const [language, stopWords] of STOP_WORD_SETS) {
    let hits = 0;
    for (const word of words) if (stopWords.has(word)) hits++;
    if (hits > bestHits) {
      best = language;
      bestHits = hits;
    }
  }
  return best;
}

/** Counts words and sentences, scores readability and guesses the language. */
export function analyzeText(text: string): TextAnalysis {
  const words = text.match(WORD) ?? [];
  const wordCount = words.length;
  const sentenceEnds = text.trim().match(SENTENCE_END)?.length ?? 0;
  const endsWithPunctuation = /[.!?…]\s*$/u.test(text);
  // Text after the last full stop is a sentence too.
  const sentenceCount = wordCount === 0 ? 0 : sentenceEnds + (endsWithPunctuation ? 0 : 1);

  let readabilityScore = 0;
  if (wordCount > 0) {
    const syllables = words.reduce((total, word) => total + countSyllables(word), 0);
    const score = 206.835 - 1.015 * (wordCount / sentenceCount) - 84.6 * (syllables / wordCount);
    readabilityScore = Math.round(score * 10) / 10;
  }

  return {
    wordCount,
    sentenceCount,
    readabilityScore,
    detectedLanguage: detectLanguage(words.map((word) => word.toLowerCase())),
  };
}
