// Every word of a prompt must be in the text encoder's vocabulary; an unknown one is an error that
// lists the nearest vocabulary words (edit distance), since a typo would otherwise be encoded as <unk>.
import { closest, distance } from 'fastest-levenshtein';
import { CrossflowError } from '../errors';
import { splitWords, SPECIAL_TOKENS, Tokenizer } from '../text/tokenizer';

export function nearestWords(word: string, vocabulary: readonly string[], k = 5): string[] {
  return [...vocabulary].sort((a, b) => distance(word, a) - distance(word, b) || a.localeCompare(b)).slice(0, k);
}

export function checkPromptWords(prompt: string, tokenizer: Tokenizer): void {
  const vocabulary = tokenizer.words.filter((w) => !(SPECIAL_TOKENS as readonly string[]).includes(w));
  for (const word of splitWords(prompt)) {
    if (tokenizer.has(word)) continue;
    const near = nearestWords(word, vocabulary);
    throw new CrossflowError(`unknown word ${JSON.stringify(word)} in prompt ${JSON.stringify(prompt)}; did you mean ${closest(word, vocabulary)}? Nearest vocabulary words: ${near.join(', ')}`);
  }
}
