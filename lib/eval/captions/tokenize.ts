// COCO caption-evaluation tokenization. The COCO toolkit (pycocoevalcap) runs Stanford's
// PTBTokenizer with lower-casing and then drops punctuation tokens. We reproduce the parts
// that matter for English captions: lower-case, split off punctuation and the PTB clitics
// ('s, n't, 're, 've, 'll, 'd, 'm), keep hyphenated words whole, drop the punctuation list.

/** The punctuation tokens the COCO toolkit removes after PTB tokenization. */
export const COCO_PUNCTUATION = new Set([
  "''", "'", '``', '`', '-LRB-', '-RRB-', '-LCB-', '-RCB-', '.', '?', '!', ',', ':', '-', '--', '...', ';',
]);

const CLITIC = /^(.+?)(n't|'s|'re|'ve|'ll|'d|'m)$/;

/** Tokenizes one caption the way the COCO evaluation does: lower-cased words, no punctuation. */
export function cocoTokenize(text: string): string[] {
  const lowered = text.toLowerCase().replace(/[\u2018\u2019]/g, "'").replace(/[\u201c\u201d]/g, '"');
  // Brackets and quotes become separate tokens (PTB writes them as -LRB- etc.; all are dropped anyway).
  const spaced = lowered.replace(/([()\[\]{}"`;,!?:]|\.\.\.|--)/g, ' $1 ');
  const tokens: string[] = [];
  for (const raw of spaced.split(/\s+/)) {
    if (!raw) continue;
    let word = raw;
    // A trailing period ends the sentence (PTB splits it off); inner periods (e.g. "u.s") stay.
    while (word.length > 1 && /[.]$/.test(word) && !/^\.+$/.test(word)) word = word.slice(0, -1);
    word = word.replace(/^'+(?=[a-z0-9])/, ''); // opening single quote
    const clitic = CLITIC.exec(word);
    const parts = clitic ? [clitic[1], clitic[2]] : [word];
    for (const part of parts) {
      if (!part || COCO_PUNCTUATION.has(part) || /^[()\[\]{}"`]+$/.test(part) || /^[.]+$/.test(part)) continue;
      if (/^'+$/.test(part)) continue;
      tokens.push(part);
    }
  }
  return tokens;
}
