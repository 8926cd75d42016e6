// Seeded randomness for data generation. Every sample gets its own generator, seeded from
// (dataset, split, seed, index), so sample i is the same bytes whether it is generated alone or in a batch.
import seedrandom from 'seedrandom';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** Index drawn with probability proportional to weights. */
  weighted(weights: readonly number[]): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
}

export function makeRng(key: string): Rng {
  const prng = seedrandom(key);
  const next = (): number => prng();
  const rng: Rng = {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    int: (n) => Math.floor(next() * n),
    pick: (items) => items[Math.floor(next() * items.length)],
    weighted: (weights) => {
      const total = weights.reduce((a, b) => a + b, 0);
      let u = next() * total;
      for (let i = 0; i < weights.length; i++) {
        u -= weights[i];
        if (u < 0) return i;
      }
      return weights.length - 1;
    },
    normal: () => {
      const u1 = Math.max(next(), 1e-12);
      const u2 = next();
      return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    },
  };
  return rng;
}

/** Standard normals (n) from a seeded stream. */
export function normals(key: string, n: number): Float32Array {
  const rng = makeRng(key);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

/** The generator of one sample: a stable key so the same (seed, split, index) gives the same sample. */
export function sampleRng(dataset: string, split: string, seed: number, index: number): Rng {
  return makeRng(`${dataset}:${split}:${seed}:${index}`);
}
