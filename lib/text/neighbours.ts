// Nearest neighbours in a text encoder's space: each caption is pooled to one vector (mean of its
// token embeddings over the mask), centred on the pool's mean, and compared by cosine similarity.
// Shows what each "language model" considers similar: word overlap (random), word meaning
// (word2vec), or visual content (clip).
import * as tf from '@tensorflow/tfjs';
import type { TextEncoder } from './encoder';

/** (B, d) mean-pooled caption vectors (not normalized). */
export function pooledCaptions(encoder: TextEncoder, captions: string[]): tf.Tensor2D {
  return tf.tidy(() => {
    const { tokens, mask } = encoder.encode(captions); // (B, n, d), (B, n)
    const m = tf.expandDims(mask, -1);
    return tf.div(tf.sum(tf.mul(tokens, m), 1), tf.sum(m, 1)) as tf.Tensor2D; // (B, d)
  });
}

/**
 * Cosine similarities after removing the reference set's mean vector: positional encodings and
 * frequent words are shared by every caption and would otherwise push all cosines towards 1.
 */
function centredCosines(a: tf.Tensor2D, b: tf.Tensor2D, reference: tf.Tensor2D): number[][] {
  return tf.tidy(() => {
    const mu = tf.mean(reference, 0, true);
    const unit = (x: tf.Tensor2D) => {
      const c = tf.sub(x, mu);
      return tf.div(c, tf.add(tf.norm(c, 2, -1, true), 1e-9)) as tf.Tensor2D;
    };
    return tf.matMul(unit(a), unit(b), false, true).arraySync() as number[][];
  });
}

export interface Neighbour {
  caption: string;
  cosine: number;
}

/** For each probe, the k most similar captions of the pool (the probe itself excluded). */
export function captionNeighbours(encoder: TextEncoder, probes: string[], pool: string[], k = 3): Neighbour[][] {
  const p = pooledCaptions(encoder, probes);
  const q = pooledCaptions(encoder, pool);
  const sims = centredCosines(p, q, q);
  tf.dispose([p, q]);
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
  const v = pooledCaptions(encoder, flat);
  const sims = centredCosines(v, v, v);
  v.dispose();
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
