// CIDEr-D as in the COCO caption evaluation (pycocoevalcap cider_scorer.py, Vedantam et al.
// 2015 with the "-D" changes): TF-IDF n-gram vectors (n = 1..4), where document frequency is
// counted over the *reference* sets of the corpus (an n-gram counts once per item) and the
// IDF is log(#items) - log(max(1, df)); the candidate's TF-IDF is clipped by the reference's
// (min(h, r) * r), a Gaussian length penalty exp(-(len_h - len_r)^2 / (2 sigma^2)) with
// sigma = 6 multiplies each order, the cosine is averaged over n and over references, times 10.
// As in the reference code, "length" is the number of bigrams (words - 1).
import { ngramCounts, ngramOrder } from './ngrams';

export interface CiderOptions {
  maxN?: number; // 4
  sigma?: number; // 6
}

interface TfIdf {
  vec: Map<string, number>[]; // per order n-1: n-gram -> tf * idf
  norm: number[]; // per order: L2 norm of vec
  length: number; // bigram count, as in the reference code
}

/** CIDEr-D over a corpus of tokenized candidates and references; returns the mean and per-item scores. */
export function corpusCiderD(
  candidates: string[][],
  references: string[][][],
  options: CiderOptions = {},
): { score: number; perItem: number[] } {
  const maxN = options.maxN ?? 4;
  const sigma = options.sigma ?? 6;
  const refCounts = references.map((refs) => refs.map((r) => ngramCounts(r, maxN)));
  // Document frequency: in how many items' reference sets each n-gram appears.
  const df = new Map<string, number>();
  for (const refs of refCounts) {
    const seen = new Set<string>();
    for (const counts of refs) for (const g of counts.keys()) seen.add(g);
    for (const g of seen) df.set(g, (df.get(g) ?? 0) + 1);
  }
  const logItems = Math.log(references.length);

  const toTfIdf = (counts: Map<string, number>): TfIdf => {
    const vec = Array.from({ length: maxN }, () => new Map<string, number>());
    const norm = new Array<number>(maxN).fill(0);
    let length = 0;
    for (const [g, tf] of counts) {
      const n = ngramOrder(g) - 1;
      const w = tf * (logItems - Math.log(Math.max(1, df.get(g) ?? 0)));
      vec[n].set(g, w);
      norm[n] += w * w;
      if (n === 1) length += tf;
    }
    return { vec, norm: norm.map(Math.sqrt), length };
  };

  const similarity = (h: TfIdf, r: TfIdf): number[] => {
    const delta = h.length - r.length;
    const penalty = Math.exp(-(delta * delta) / (2 * sigma * sigma));
    const val = new Array<number>(maxN).fill(0);
    for (let n = 0; n < maxN; n++) {
      for (const [g, wh] of h.vec[n]) {
        const wr = r.vec[n].get(g) ?? 0;
        val[n] += Math.min(wh, wr) * wr; // clipping: a repeated n-gram cannot earn more than the reference has
      }
      if (h.norm[n] !== 0 && r.norm[n] !== 0) val[n] /= h.norm[n] * r.norm[n];
      val[n] *= penalty;
    }
    return val;
  };

  const perItem = candidates.map((cand, i) => {
    const h = toTfIdf(ngramCounts(cand, maxN));
    const summed = new Array<number>(maxN).fill(0);
    for (const rc of refCounts[i]) {
      const s = similarity(h, toTfIdf(rc));
      for (let n = 0; n < maxN; n++) summed[n] += s[n];
    }
    const meanOverN = summed.reduce((a, b) => a + b, 0) / maxN;
    return (meanOverN / refCounts[i].length) * 10;
  });
  const score = perItem.length ? perItem.reduce((s, v) => s + v, 0) / perItem.length : 0;
  return { score, perItem };
}
