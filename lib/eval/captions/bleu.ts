// Corpus-level BLEU-1..4 as the COCO caption evaluation computes it (pycocoevalcap's
// bleu_scorer with option "closest"): clipped n-gram matches and candidate n-gram totals are
// summed over the whole corpus; the brevity penalty compares the total candidate length with
// the total of each candidate's closest reference length (ties go to the shorter reference).
// BLEU-k is the geometric mean of the modified precisions p_1..p_k times that penalty.
import { ngramCounts, ngramOrder } from './ngrams';

export interface BleuResult {
  /** [BLEU-1, BLEU-2, BLEU-3, BLEU-4]. */
  bleu: number[];
  /** Modified n-gram precisions p_1..p_4 over the corpus. */
  precisions: number[];
  brevityPenalty: number;
  candidateLength: number;
  referenceLength: number;
}

// pycocoevalcap adds these to numerators and denominators so that empty counts give 0, not NaN.
const TINY = 1e-15;
const SMALL = 1e-9;

/** Closest reference length to `length`; on a tie the shorter reference wins. */
export function closestRefLength(length: number, refLengths: number[]): number {
  let best = refLengths[0];
  for (const r of refLengths) {
    const d = Math.abs(r - length);
    const bd = Math.abs(best - length);
    if (d < bd || (d === bd && r < best)) best = r;
  }
  return best;
}

/**
 * Corpus BLEU over tokenized candidates (one per item) and their references (one or more per item).
 * `maxN` is 4 for BLEU-1..4.
 */
export function corpusBleu(candidates: string[][], references: string[][][], maxN = 4): BleuResult {
  if (candidates.length !== references.length) throw new Error('corpusBleu: one reference list per candidate');
  const matches = new Array(maxN).fill(0);
  const totals = new Array(maxN).fill(0);
  let candidateLength = 0;
  let referenceLength = 0;
  candidates.forEach((cand, i) => {
    const refs = references[i];
    if (refs.length === 0) throw new Error(`corpusBleu: item ${i} has no reference`);
    // Per n-gram, the most times it occurs in any single reference: the clip.
    const maxRef = new Map<string, number>();
    for (const ref of refs) {
      for (const [g, c] of ngramCounts(ref, maxN)) if (c > (maxRef.get(g) ?? 0)) maxRef.set(g, c);
    }
    for (const [g, c] of ngramCounts(cand, maxN)) {
      matches[ngramOrder(g) - 1] += Math.min(c, maxRef.get(g) ?? 0);
    }
    for (let n = 1; n <= maxN; n++) totals[n - 1] += Math.max(0, cand.length - n + 1);
    candidateLength += cand.length;
    referenceLength += closestRefLength(cand.length, refs.map((r) => r.length));
  });
  const precisions = matches.map((m, k) => (m + TINY) / (totals[k] + SMALL));
  const ratio = (candidateLength + TINY) / (referenceLength + SMALL);
  const brevityPenalty = ratio < 1 ? Math.exp(1 - 1 / ratio) : 1;
  const bleu: number[] = [];
  let logSum = 0;
  for (let k = 0; k < maxN; k++) {
    logSum += Math.log(precisions[k]);
    bleu.push(Math.exp(logSum / (k + 1)) * brevityPenalty);
  }
  return { bleu, precisions, brevityPenalty, candidateLength, referenceLength };
}
