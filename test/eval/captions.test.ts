// Caption metrics against reference values: NLTK's published BLEU worked example (Papineni et
// al.'s sentences, the numbers in NLTK's bleu_score docstring, recomputed with NLTK 3.8 here),
// hand-computed worked examples for the COCO-specific definitions (closest reference length,
// ROUGE-L's max-precision/max-recall F, CIDEr-D's IDF from references, clipping and length
// penalty), and METEOR with EXACT matching only (checked against NLTK's meteor with stemming
// and WordNet switched off, and by hand).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cocoTokenize, corpusBleu, corpusRougeL, rougeL, lcsLength, corpusCiderD, corpusMeteor, METEOR_1_5, METEOR_CLASSIC, scoreCaptions } from '../../lib/eval/captions/index';
import { alignExact, countChunks, meteorSegment } from '../../lib/eval/captions/meteor';

const close = (actual: number, expected: number, tol = 1e-9, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} != ${expected} (tol ${tol})`);
const w = (s: string) => s.split(' ');

test('COCO tokenization: lower case, PTB clitics, punctuation dropped', () => {
  assert.deepEqual(cocoTokenize("A man's dog, running."), ['a', 'man', "'s", 'dog', 'running']);
  assert.deepEqual(cocoTokenize("It doesn't fly!  (Really?)"), ['it', 'does', "n't", 'fly', 'really']);
  assert.deepEqual(cocoTokenize('A black-and-white cat; two dogs: big...'), ['a', 'black-and-white', 'cat', 'two', 'dogs', 'big']);
});

test('BLEU: NLTK docstring example (sentence and corpus BLEU, closest reference length)', () => {
  const hyp1 = w('It is a guide to action which ensures that the military always obeys the commands of the party');
  const ref1a = w('It is a guide to action that ensures that the military will forever heed Party commands');
  const ref1b = w('It is the guiding principle which guarantees the military forces always being under the command of the Party');
  const ref1c = w('It is the practical guide for the army always to heed the directions of the party');
  const hyp2 = w('he read the book because he was interested in world history');
  const ref2a = w('he was interested in world history because he read the book');
  // nltk.translate.bleu_score.sentence_bleu([ref1a, ref1b, ref1c], hyp1) = 0.5045666840058485
  close(corpusBleu([hyp1], [[ref1a, ref1b, ref1c]]).bleu[3], 0.5045666840058485, 1e-9, 'sentence BLEU-4');
  // corpus_bleu([[ref1a, ref1b, ref1c], [ref2a]], [hyp1, hyp2], weights=(1/k,)*k) for k = 1..4
  const r = corpusBleu([hyp1, hyp2], [[ref1a, ref1b, ref1c], [ref2a]]);
  close(r.bleu[0], 0.9655172413793104, 1e-9, 'BLEU-1');
  close(r.bleu[1], 0.8242803277698696, 1e-9, 'BLEU-2');
  close(r.bleu[2], 0.7069430098960677, 1e-9, 'BLEU-3');
  close(r.bleu[3], 0.5920778868801042, 1e-9, 'BLEU-4');
  // By hand: 28 of 29 unigrams match (hyp1 has "obeys" in no reference), lengths 18+11 = 29 vs 18+11.
  close(r.bleu[0], 28 / 29, 1e-9); // (COCO's 1e-15/1e-9 guards shift it by < 1e-10)
  close(r.brevityPenalty, 1, 1e-9);
});

test('BLEU: brevity penalty uses the closest reference length, ties to the shorter', () => {
  // Hypothesis of 3 words, single reference of 6: p1 = p2 = p3 = 1, BP = exp(1 - 6/3) = e^-1.
  const r = corpusBleu([w('a red circle')], [[w('a red circle on the left')]]);
  close(r.bleu[0], Math.exp(-1), 1e-9);
  close(r.bleu[2], Math.exp(-1), 1e-9);
  // No 4-gram at all (0 of 0): COCO's scorer sets p4 = 1e-15 / 1e-9, so BLEU-4 = (1e-6)^(1/4) BP, not NaN.
  close(r.bleu[3], Math.exp(-1) * Math.pow(1e-6, 1 / 4), 1e-9);
  // 5 words, references of 4 and 6: both 1 away, the shorter (4) counts, so no penalty.
  const t = corpusBleu([w('a b c d e')], [[w('a b c d'), w('a b c d e f')]]);
  assert.equal(t.referenceLength, 4);
  close(t.brevityPenalty, 1, 1e-9);
  // Clipping: "the the the the" against "the cat" -> p1 = 1/4.
  const c = corpusBleu([w('the the the the')], [[w('the cat sat on mat')]]);
  close(c.precisions[0], 0.25, 1e-9);
});

test('ROUGE-L: LCS and the COCO F-measure (beta 1.2, max precision and max recall over references)', () => {
  assert.equal(lcsLength(w('a blue square below a red circle'), w('a red circle above a blue square')), 3);
  // One reference: P = 3/3, R = 3/7, F = (1 + 1.44) P R / (R + 1.44 P) = 0.5596330275...
  close(rougeL(w('a red circle'), [w('a big red circle on the left')]), (2.44 * (3 / 7)) / (3 / 7 + 1.44), 1e-12);
  close(rougeL(w('a red circle'), [w('a big red circle on the left')]), 0.5596330275229358, 1e-12);
  // Two references: max precision 1 (from the first), max recall 1 (LCS 2 of the 2-word second) -> F = 1.
  close(rougeL(w('a red circle'), [w('a big red circle on the left'), w('red circle')]), 1, 1e-12);
  const c = corpusRougeL([w('x y'), w('a b')], [[w('x y')], [w('c d')]]);
  close(c.score, 0.5, 1e-12);
});

test('CIDEr-D: hand-computed TF-IDF cosine, IDF from references, clipping and length penalty', () => {
  // Corpus of two items. Reference document frequencies: "a" and "square" occur in both
  // items (IDF log2 - log2 = 0); every other n-gram in one (IDF L = log 2).
  const L = Math.log(2);
  void L; // the cosines below are ratios in which L cancels
  const refs = [[w('a red square')], [w('a blue square')]];
  // Item 1, hyp "a red circle": n=1 cos = (red: L*L) / (|(0,L,L)| |(0,L,0)|) = 1/sqrt(2);
  // n=2 cos = L^2 / (sqrt(2)L sqrt(2)L) = 1/2; n=3 no shared trigram; n=4 none. Same length.
  const item1 = ((1 / Math.SQRT2 + 0.5 + 0 + 0) / 4) * 10;
  // Item 2, identical to its reference: cos 1 for n = 1..3, n = 4 absent -> 3/4 * 10 = 7.5.
  const r = corpusCiderD([w('a red circle'), w('a blue square')], refs);
  close(r.perItem[0], item1, 1e-12, 'item 1');
  close(r.perItem[1], 7.5, 1e-12, 'item 2');
  close(r.score, (item1 + 7.5) / 2, 1e-12);
  // Clipping and length penalty: hyp "blue blue blue square" for item 2.
  // n=1: hyp (blue: 3L, square: 0), ref (a: 0, blue: L, square: 0): min(3L, L) L / (3L L) = 1/3
  // (without clipping it would be 1). n=2: hyp ("blue blue": 2L, "blue square": L), ref ("a blue": L,
  // "blue square": L): L^2 / (sqrt(5)L sqrt(2)L) = 1/sqrt(10). n=3, n=4: nothing shared.
  // Lengths (bigram counts) 3 vs 2: penalty exp(-1 / (2 * 36)).
  const r2 = corpusCiderD([w('a red circle'), w('blue blue blue square')], refs);
  close(r2.perItem[1], ((1 / 3 + 1 / Math.sqrt(10)) / 4) * 10 * Math.exp(-1 / 72), 1e-12, 'clipped item');
});

test('METEOR (exact matching only): alignment with fewest chunks, 1.5 and classic parameters', () => {
  // Banerjee & Lavie's example: P = 1, R = 6/7, 2 chunks of 6 matches.
  const hyp = w('the president spoke to the audience');
  const ref = w('the president then spoke to the audience');
  assert.equal(countChunks(alignExact(hyp, ref)), 2);
  const P = 1, R = 6 / 7;
  // Classic: Fmean = 10PR/(R + 9P), penalty 0.5 (2/6)^3. NLTK 3.8 meteor_score with stemming and
  // WordNet disabled gives 0.8534621578099838 for this pair.
  const classic = meteorSegment(hyp, [ref], METEOR_CLASSIC).score;
  close(classic, ((10 * P * R) / (R + 9 * P)) * (1 - 0.5 * Math.pow(2 / 6, 3)), 1e-12);
  close(classic, 0.8534621578099838, 1e-12);
  // METEOR 1.5: Fmean = PR/(0.85P + 0.15R), penalty 0.6 (2/6)^0.2.
  const v15 = meteorSegment(hyp, [ref], METEOR_1_5).score;
  close(v15, ((P * R) / (0.85 * P + 0.15 * R)) * (1 - 0.6 * Math.pow(2 / 6, 0.2)), 1e-12);
  // Repeated words: the optimal alignment pairs "a blue square" and "a red circle" as two chunks.
  // (NLTK aligns greedily in order and finds 4 chunks, 0.7302; METEOR 1.5 searches for the fewest.)
  const swapped = meteorSegment(w('a blue square below a red circle'), [w('a red circle above a blue square')], METEOR_CLASSIC);
  assert.equal(swapped.stats.matches, 6);
  assert.equal(swapped.stats.chunks, 2);
  close(swapped.score, (6 / 7) * (1 - 0.5 * Math.pow(2 / 6, 3)), 1e-12);
  // A perfect match scores 1 under 1.5 (fragmentation set to 0), 1 - 0.5 (1/3)^3 under classic.
  close(meteorSegment(w('a red circle'), [w('a red circle')], METEOR_1_5).score, 1, 1e-12);
  close(meteorSegment(w('a red circle'), [w('a red circle')], METEOR_CLASSIC).score, 1 - 0.5 / 27, 1e-12);
  // No overlap -> 0; best of several references is kept.
  assert.equal(meteorSegment(w('x y'), [w('a b')]).score, 0);
  close(meteorSegment(hyp, [w('nothing here'), ref], METEOR_CLASSIC).score, 0.8534621578099838, 1e-12);
  // Corpus METEOR is computed from summed statistics: two identical segments of the president pair
  // give the same score as one (P, R and frag are ratios of doubled counts).
  close(corpusMeteor([hyp, hyp], [[ref], [ref]], METEOR_CLASSIC).score, 0.8534621578099838, 1e-12);
});

test('scoreCaptions: identical captions score at the top of every metric', () => {
  const refs = [['A red circle.'], ['Two blue squares on the left.'], ['A green triangle above a red circle.']];
  const s = scoreCaptions(['a red circle', 'two blue squares on the left', 'a green triangle above a red circle'], refs);
  close(s.bleu1, 1, 1e-9);
  close(s.bleu3, 1, 1e-9);
  close(s.rouge_l, 1, 1e-12);
  close(s.meteor, 1 * (1 - 0.6 * Math.pow(3 / 16, 0.2)), 1e-12); // 3 chunks (one per segment) over 16 matches
  assert.ok(s.cider > 0);
  assert.throws(() => scoreCaptions(['a'], []), /references/);
});
