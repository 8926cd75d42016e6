// Nearest neighbours in a text encoder's space: each caption is pooled to one vector (mean of its
// token embeddings over the mask) and compared by cosine similarity. Shows what each "language
// model" considers similar: word overlap (random), word meaning (word2vec), or visual content (clip).
import * as tf from '@tensorflow/tfjs';
import type { TextEncoder } from './encoder';

/** (B, d) mean-pooled, unit-length caption vectors. */
export function pooledCaptions(encoder: TextEncoder, captions: string[]): tf.Tensor2D {
  return tf.tidy(() => {
    const { tokens, mask } = encoder.encode(captions); // (B, n, d), (B, n)
    const m = tf.expandDims(mask, -1);
    const mean = tf.div(tf.sum(tf.mul(tokens, m), 1), tf.sum(m, 1)); // (B, d)
    return tf.div(mean, tf.norm(mean, 2, -1, true)) as tf.Tensor2D;
  });
}

export interface Neighbour {
  caption: string;
  cosine: number;
}

/** For each probe, the k most similar captions of the pool (the probe itself excluded). */
export function captionNeighbours(encoder: TextEncoder, probes: string[], pool: string[], k = 3): Neighbour[][] {
  const sims = tf.tidy(() => tf.matMul(pooledCaptions(encoder, probes), pooledCaptions(encoder, pool), false, true).arraySync() as number[][]);
  return probes.map((p, i) =>
    pool
      .map((caption, j) => ({ caption, cosine: sims[i][j] }))
      .filter((n) => n.caption !== p)
      .sort((a, b) => b.cosine - a.cosine)
      .slice(0, k),
  );
}

/** Mean cosine between captions that share the canonical meaning vs those that do not (paraphrase separation). */
export function paraphraseSeparation(encoder: TextEncoder, groups: string[][]): { within: number; across: number } {
  const flat = groups.flat();
  const owner = groups.flatMap((g, gi) => g.map(() => gi));
  const sims = tf.tidy(() => {
    const v = pooledCaptions(encoder, flat);
    return tf.matMul(v, v, false, true).arraySync() as number[][];
  });
  let w = 0, nw = 0, a = 0, na = 0;
  for (let i = 0; i < flat.length; i++)
    for (let j = i + 1; j < flat.length; j++) {
      if (owner[i] === owner[j]) {
        w += sims[i][j];
        nw++;
      } else {
        a += sims[i][j];
        na++;
      }
    }
  return { within: w / Math.max(1, nw), across: a / Math.max(1, na) };
}
