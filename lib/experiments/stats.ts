// Statistics over seeds: per-row mean, standard deviation and a 95% percentile-bootstrap interval;
// for a compared pair, the paired difference over the seeds both rows have, with its interval, and a
// verdict read from that interval alone. The bootstrap draws from a seeded stream, so a report
// regenerated from the same result files has the same intervals.
import { mean, sampleStandardDeviation, quantileSorted } from 'simple-statistics';
import { makeRng } from '../data/rng';

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1); NaN with one value. */
  sd: number;
  /** 95% percentile-bootstrap interval of the mean; [mean, mean] with one value. */
  ci: [number, number];
}

export const BOOTSTRAP_RESAMPLES = 10000;

/** The 95% percentile-bootstrap interval of the mean of `values` (resamples drawn from `key`). */
export function bootstrapCi(values: readonly number[], key: string, resamples = BOOTSTRAP_RESAMPLES): [number, number] {
  const n = values.length;
  if (n === 0) return [NaN, NaN];
  if (n === 1) return [values[0], values[0]];
  const rng = makeRng(`bootstrap:${key}`);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[rng.int(n)];
    means[r] = s / n;
  }
  const sorted = Array.from(means).sort((a, b) => a - b);
  return [quantileSorted(sorted, 0.025), quantileSorted(sorted, 0.975)];
}

export function summarize(values: readonly number[], key: string): Summary {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return { n: 0, mean: NaN, sd: NaN, ci: [NaN, NaN] };
  return { n: v.length, mean: mean(v), sd: v.length > 1 ? sampleStandardDeviation(v) : NaN, ci: bootstrapCi(v, key) };
}

export type Verdict = 'better' | 'worse' | 'no difference' | 'too few seeds';

export interface PairedDifference extends Summary {
  /** The seeds both rows have, in order. */
  seeds: number[];
  verdict: Verdict;
}

/**
 * b - a over the seeds both have. The verdict reads the interval: above zero is "better" when higher is
 * better (below zero when lower is), an interval containing zero is "no difference". With fewer than 3
 * shared seeds a bootstrap interval means little: "too few seeds".
 */
export function pairedDifference(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>, higherIsBetter: boolean, key: string): PairedDifference {
  const seeds = [...a.keys()].filter((s) => b.has(s) && Number.isFinite(a.get(s)!) && Number.isFinite(b.get(s)!)).sort((x, y) => x - y);
  const diffs = seeds.map((s) => b.get(s)! - a.get(s)!);
  const sum = summarize(diffs, key);
  let verdict: Verdict = 'too few seeds';
  if (seeds.length >= 3) {
    const [lo, hi] = sum.ci;
    if (lo > 0) verdict = higherIsBetter ? 'better' : 'worse';
    else if (hi < 0) verdict = higherIsBetter ? 'worse' : 'better';
    else verdict = 'no difference';
  }
  return { ...sum, seeds, verdict };
}
