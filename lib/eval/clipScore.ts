// CLIP score and R-precision with the project's small CLIP (lib/text/clip, trained on Shapes).
// CLIP score: the mean cosine similarity between each image's embedding and its prompt's
// embedding (reported as a fraction, like the paper's .26; no x100 and no clipping at 0).
// R-precision: for each image, its own caption among 32 (itself + 31 other distinct captions of
// the set, drawn with a seed) is ranked by cosine; the fraction ranked first.
import * as tf from '@tensorflow/tfjs';
import { CrossflowError } from '../errors';
import { initBackend } from '../backend/select';
import { loadClip, Clip } from '../text/clip';
import { makeRng } from '../data/rng';

/** What the evaluation needs from a CLIP model: L2-normalised embeddings, (N, d) row-major. */
export interface ClipEmbedder {
  dim: number;
  embedImages(images: ReadonlyArray<{ rgb: ArrayLike<number>; width: number; height: number }>): Promise<Float32Array>;
  embedTexts(captions: string[]): Promise<Float32Array>;
}

function normalizeRows(x: Float32Array, d: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length / d; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j] ** 2;
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let j = 0; j < d; j++) out[i * d + j] = x[i * d + j] * inv;
  }
  return out;
}

function dot(a: Float32Array, i: number, b: Float32Array, j: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += a[i * d + k] * b[j * d + k];
  return s;
}

/** Mean cosine between image i and text i. Inputs need not be normalised. */
export function clipScoreFromEmbeddings(img: Float32Array, txt: Float32Array, d: number): number {
  const a = normalizeRows(img, d);
  const b = normalizeRows(txt, d);
  const n = a.length / d;
  let s = 0;
  for (let i = 0; i < n; i++) s += dot(a, i, b, i, d);
  return s / n;
}

/**
 * R-precision (R = 1): image i against its caption and `pool - 1` distractors, chosen among the
 * captions that differ from caption i (by text). Ties count as a miss.
 */
export function rPrecisionFromEmbeddings(img: Float32Array, txt: Float32Array, captions: string[], d: number, pool = 32, seed = 0): number {
  const a = normalizeRows(img, d);
  const b = normalizeRows(txt, d);
  const n = captions.length;
  const rng = makeRng(`r-precision:${seed}`);
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const others: number[] = [];
    const seen = new Set([captions[i]]);
    const order = Array.from({ length: n }, (_, k) => k);
    for (let k = n - 1; k > 0; k--) {
      const j = rng.int(k + 1);
      [order[k], order[j]] = [order[j], order[k]];
    }
    for (const j of order) {
      if (others.length >= pool - 1) break;
      if (seen.has(captions[j])) continue;
      seen.add(captions[j]);
      others.push(j);
    }
    const own = dot(a, i, b, i, d);
    if (others.every((j) => dot(a, i, b, j, d) < own)) hits++;
  }
  return hits / n;
}

/** The project's small CLIP (lib/text/clip, trained contrastively on Shapes) as a ClipEmbedder. */
let projectClip: Promise<ClipEmbedder> | null = null;

export function loadProjectClip(): Promise<ClipEmbedder> {
  if (!projectClip) {
    projectClip = makeProjectClip();
    projectClip.catch(() => (projectClip = null));
  }
  return projectClip;
}

async function makeProjectClip(): Promise<ClipEmbedder> {
  await initBackend();
  let clip: Clip;
  try {
    clip = loadClip();
  } catch (err) {
    throw new CrossflowError(`the small CLIP has no weights: ${(err as Error).message.split('\n')[0]}`);
  }
  return {
    dim: clip.embedDim,
    async embedImages(images) {
      const out = new Float32Array(images.length * clip.embedDim);
      for (let s = 0; s < images.length; s += 500) {
        const chunk = images.slice(s, s + 500);
        const { width: W, height: H } = chunk[0];
        const e = tf.tidy(() => {
          const data = new Float32Array(chunk.length * H * W * 3);
          chunk.forEach((im, n) => {
            for (let k = 0; k < H * W * 3; k++) data[n * H * W * 3 + k] = im.rgb[k] / 255;
          });
          return clip.embedImages(tf.tensor4d(data, [chunk.length, H, W, 3])); // (N, H, W, 3) in [0, 1] -> (N, e)
        });
        out.set((await e.data()) as Float32Array, s * clip.embedDim);
        e.dispose();
      }
      return out;
    },
    async embedTexts(captions) {
      const out = new Float32Array(captions.length * clip.embedDim);
      for (let s = 0; s < captions.length; s += 500) {
        const e = clip.embedText(captions.slice(s, s + 500)); // (B, e) unit vectors
        out.set((await e.data()) as Float32Array, s * clip.embedDim);
        e.dispose();
      }
      return out;
    },
  };
}
