// METEOR with EXACT word matching only. The COCO caption evaluation runs METEOR 1.5 (Java) with
// four matching modules: exact, Porter stem, WordNet synonym and paraphrase tables. None of those
// resources is available here, so this implementation uses the exact module alone; its scores are
// therefore a lower bound of COCO METEOR (equal when all matches are exact) and must be labelled
// "METEOR (exact)" when compared with published numbers.
//
// Scoring (Lavie & Denkowski, METEOR 1.5 scorer):
//   P = weighted matches / weighted |hyp|, R = weighted matches / weighted |ref|, where a content
//     word weighs delta and a function word 1 - delta (with no function-word list every word is
//     a content word and delta cancels);
//   Fmean = P R / (alpha P + (1 - alpha) R);
//   frag = chunks / matches (0 for a perfect one-chunk match under the 1.5 scorer);
//   score = Fmean (1 - gamma frag^beta).
// Alignment: the most matches, then the fewest chunks (a chunk is a run of matches adjacent and in
// the same order in both sentences); searched exhaustively for ordinary captions, greedily beyond
// a search cap. Multi-reference: each segment keeps its best-scoring reference; the corpus score
// is computed from the segments' summed statistics, as METEOR's own aggregate is.

export interface MeteorParams {
  alpha: number;
  beta: number;
  gamma: number;
  delta: number;
  /** METEOR 1.5 sets the fragmentation to 0 when hyp and ref match completely in one chunk. */
  perfectMatchNoPenalty: boolean;
  /** Words weighed 1 - delta; empty = all words are content words. */
  functionWords: ReadonlySet<string>;
}

/** METEOR 1.5 English parameters (the version the COCO toolkit runs). Default here. */
export const METEOR_1_5: MeteorParams = {
  alpha: 0.85, beta: 0.2, gamma: 0.6, delta: 0.75, perfectMatchNoPenalty: true, functionWords: new Set(),
};
/** Original METEOR (Banerjee & Lavie 2005; also NLTK's defaults): Fmean = 10PR/(R+9P), penalty 0.5 frag^3. */
export const METEOR_CLASSIC: MeteorParams = {
  alpha: 0.9, beta: 3, gamma: 0.5, delta: 1, perfectMatchNoPenalty: false, functionWords: new Set(),
};

export interface MeteorStats {
  hypLength: number;
  refLength: number;
  hypFunction: number; // function words in hyp
  refFunction: number;
  matches: number;
  matchedFunctionHyp: number;
  matchedFunctionRef: number;
  chunks: number;
}

/** Count of chunks for an alignment given as pairs [hypIndex, refIndex]. */
export function countChunks(pairs: Array<[number, number]>): number {
  if (pairs.length === 0) return 0;
  const sorted = [...pairs].sort((a, b) => a[0] - b[0]);
  let chunks = 1;
  for (let k = 1; k < sorted.length; k++) {
    const [h0, r0] = sorted[k - 1];
    const [h1, r1] = sorted[k];
    if (!(h1 === h0 + 1 && r1 === r0 + 1)) chunks++;
  }
  return chunks;
}

const SEARCH_CAP = 20000;

/**
 * Exact-match alignment with the most matches and the fewest chunks. Returns the pairs.
 * Each word type shared by both sides contributes min(count_h, count_r) matches; only the
 * pairing among repeated words is a choice, so the search enumerates those pairings.
 */
export function alignExact(hyp: string[], ref: string[]): Array<[number, number]> {
  const posH = new Map<string, number[]>();
  const posR = new Map<string, number[]>();
  hyp.forEach((w, i) => posH.set(w, [...(posH.get(w) ?? []), i]));
  ref.forEach((w, j) => posR.set(w, [...(posR.get(w) ?? []), j]));
  const fixed: Array<[number, number]> = [];
  const choices: Array<Array<Array<[number, number]>>> = []; // per ambiguous word: candidate pairings
  let combos = 1;
  for (const [w, hs] of posH) {
    const rs = posR.get(w);
    if (!rs) continue;
    if (hs.length === 1 && rs.length === 1) {
      fixed.push([hs[0], rs[0]]);
      continue;
    }
    const options = injectivePairings(hs, rs, Math.ceil(SEARCH_CAP / combos));
    choices.push(options);
    combos *= options.length;
  }
  if (combos > SEARCH_CAP) return greedyAlign(hyp, ref);
  let best: Array<[number, number]> = fixed;
  let bestChunks = Infinity;
  const current: Array<[number, number]> = [...fixed];
  const search = (k: number): void => {
    if (k === choices.length) {
      const c = countChunks(current);
      if (c < bestChunks) {
        bestChunks = c;
        best = [...current];
      }
      return;
    }
    for (const option of choices[k]) {
      current.push(...option);
      search(k + 1);
      current.length -= option.length;
    }
  };
  search(0);
  return best;
}

/** All ways to pair min(|hs|,|rs|) positions of hs with distinct positions of rs (at most `limit`+1). */
function injectivePairings(hs: number[], rs: number[], limit: number): Array<Array<[number, number]>> {
  const m = Math.min(hs.length, rs.length);
  const out: Array<Array<[number, number]>> = [];
  const pick = (hi: number, usedR: Set<number>, acc: Array<[number, number]>, remaining: number): void => {
    if (out.length > limit) return;
    if (remaining === 0) {
      out.push([...acc]);
      return;
    }
    if (hs.length - hi < remaining) return;
    for (const r of rs) {
      if (usedR.has(r)) continue;
      usedR.add(r);
      acc.push([hs[hi], r]);
      pick(hi + 1, usedR, acc, remaining - 1);
      acc.pop();
      usedR.delete(r);
    }
    if (hs.length - hi > remaining) pick(hi + 1, usedR, acc, remaining); // leave hs[hi] unmatched
  };
  pick(0, new Set(), [], m);
  return out;
}

/** Fallback for very repetitive inputs: align longest common runs first. */
function greedyAlign(hyp: string[], ref: string[]): Array<[number, number]> {
  const usedH = new Array(hyp.length).fill(false);
  const usedR = new Array(ref.length).fill(false);
  const pairs: Array<[number, number]> = [];
  for (;;) {
    let bestLen = 0, bi = -1, bj = -1;
    for (let i = 0; i < hyp.length; i++) {
      for (let j = 0; j < ref.length; j++) {
        let L = 0;
        while (i + L < hyp.length && j + L < ref.length && !usedH[i + L] && !usedR[j + L] && hyp[i + L] === ref[j + L]) L++;
        if (L > bestLen) { bestLen = L; bi = i; bj = j; }
      }
    }
    if (bestLen === 0) return pairs;
    for (let k = 0; k < bestLen; k++) {
      usedH[bi + k] = usedR[bj + k] = true;
      pairs.push([bi + k, bj + k]);
    }
  }
}

export function meteorStats(hyp: string[], ref: string[], params: MeteorParams = METEOR_1_5): MeteorStats {
  const pairs = alignExact(hyp, ref);
  const fw = params.functionWords;
  return {
    hypLength: hyp.length,
    refLength: ref.length,
    hypFunction: hyp.filter((w) => fw.has(w)).length,
    refFunction: ref.filter((w) => fw.has(w)).length,
    matches: pairs.length,
    matchedFunctionHyp: pairs.filter(([i]) => fw.has(hyp[i])).length,
    matchedFunctionRef: pairs.filter(([, j]) => fw.has(ref[j])).length,
    chunks: countChunks(pairs),
  };
}

/** The METEOR score from (possibly summed) statistics. */
export function meteorFromStats(s: MeteorStats, params: MeteorParams = METEOR_1_5): number {
  if (s.matches === 0) return 0;
  const d = params.delta;
  const weigh = (content: number, fn: number) => d * content + (1 - d) * fn;
  const P = weigh(s.matches - s.matchedFunctionHyp, s.matchedFunctionHyp) / weigh(s.hypLength - s.hypFunction, s.hypFunction);
  const R = weigh(s.matches - s.matchedFunctionRef, s.matchedFunctionRef) / weigh(s.refLength - s.refFunction, s.refFunction);
  const fMean = (P * R) / (params.alpha * P + (1 - params.alpha) * R);
  const perfect = s.matches === s.hypLength && s.matches === s.refLength && s.chunks === 1;
  const frag = params.perfectMatchNoPenalty && perfect ? 0 : s.chunks / s.matches;
  return fMean * (1 - params.gamma * Math.pow(frag, params.beta));
}

function addStats(a: MeteorStats, b: MeteorStats): MeteorStats {
  return {
    hypLength: a.hypLength + b.hypLength,
    refLength: a.refLength + b.refLength,
    hypFunction: a.hypFunction + b.hypFunction,
    refFunction: a.refFunction + b.refFunction,
    matches: a.matches + b.matches,
    matchedFunctionHyp: a.matchedFunctionHyp + b.matchedFunctionHyp,
    matchedFunctionRef: a.matchedFunctionRef + b.matchedFunctionRef,
    chunks: a.chunks + b.chunks,
  };
}

/** Segment METEOR against several references: the best-scoring reference's score and statistics. */
export function meteorSegment(hyp: string[], refs: string[][], params: MeteorParams = METEOR_1_5): { score: number; stats: MeteorStats } {
  let best: { score: number; stats: MeteorStats } | null = null;
  for (const ref of refs) {
    const stats = meteorStats(hyp, ref, params);
    const score = meteorFromStats(stats, params);
    if (!best || score > best.score) best = { score, stats };
  }
  if (!best) throw new Error('meteorSegment: no reference');
  return best;
}

/** Corpus METEOR (exact matching): the score of the summed segment statistics, and per-segment scores. */
export function corpusMeteor(
  candidates: string[][],
  references: string[][][],
  params: MeteorParams = METEOR_1_5,
): { score: number; perItem: number[] } {
  let total: MeteorStats = {
    hypLength: 0, refLength: 0, hypFunction: 0, refFunction: 0, matches: 0, matchedFunctionHyp: 0, matchedFunctionRef: 0, chunks: 0,
  };
  const perItem = candidates.map((c, i) => {
    const seg = meteorSegment(c, references[i], params);
    total = addStats(total, seg.stats);
    return seg.score;
  });
  return { score: meteorFromStats(total, params), perItem };
}
