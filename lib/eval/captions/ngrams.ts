// n-gram counting shared by BLEU and CIDEr-D. An n-gram is keyed by its words joined with a
// space (tokens never contain spaces after tokenization).

/** Counts of every n-gram of order 1..maxN in `tokens`, keyed "w1 w2 ...". */
export function ngramCounts(tokens: string[], maxN: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let n = 1; n <= maxN; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      const key = tokens.slice(i, i + n).join(' ');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

/** The order (number of words) of an n-gram key. */
export function ngramOrder(key: string): number {
  let n = 1;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) === 32) n++;
  return n;
}
