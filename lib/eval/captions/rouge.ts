// ROUGE-L as in the COCO caption evaluation (pycocoevalcap rouge.py): per item, the longest
// common subsequence (LCS) with each reference gives precision LCS/|cand| and recall LCS/|ref|;
// the best precision and the best recall over the references form an F-measure weighted by
// beta = 1.2; the corpus score is the mean over items.

/** Length of the longest common subsequence of two token lists. O(|a||b|) time, O(|b|) memory. */
export function lcsLength(a: string[], b: string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    let diag = 0; // row[j-1] of the previous i
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = a[i - 1] === b[j - 1] ? diag + 1 : Math.max(row[j], row[j - 1]);
      diag = up;
    }
  }
  return row[b.length];
}

/** ROUGE-L of one candidate against its references (COCO's definition, beta = 1.2). */
export function rougeL(candidate: string[], references: string[][], beta = 1.2): number {
  let precMax = 0;
  let recMax = 0;
  for (const ref of references) {
    const lcs = lcsLength(ref, candidate);
    if (candidate.length > 0) precMax = Math.max(precMax, lcs / candidate.length);
    if (ref.length > 0) recMax = Math.max(recMax, lcs / ref.length);
  }
  if (precMax === 0 || recMax === 0) return 0;
  return ((1 + beta * beta) * precMax * recMax) / (recMax + beta * beta * precMax);
}

/** Mean ROUGE-L over a corpus, with the per-item scores. */
export function corpusRougeL(candidates: string[][], references: string[][][], beta = 1.2): { score: number; perItem: number[] } {
  const perItem = candidates.map((c, i) => rougeL(c, references[i], beta));
  const score = perItem.length ? perItem.reduce((s, v) => s + v, 0) / perItem.length : 0;
  return { score, perItem };
}
