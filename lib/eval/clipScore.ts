// CLIP score and R-precision with the project's small CLIP (lib/text/clip, trained on Shapes).
// CLIP score: the mean cosine similarity between each image's embedding and its prompt's
// embedding (reported as a fraction, like the paper's .26; no x100 and no clipping at 0).
// R-precision: for each image, its own caption among 32 (itself + 31 other distinct captions of
// the set, drawn with a seed) is ranked by cosine; the fraction ranked first.
import { CrossflowError } from '../errors';
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

/**
 * Adapts the project's small CLIP (lib/text/clip) to ClipEmbedder. The CLIP module belongs to the
 * text-encoder work; this reads the API it exposes at run time and reports clearly when it is absent.
 */
export async function loadProjectClip(): Promise<ClipEmbedder> {
  let mod: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require('../text/clip') as Record<string, unknown>;
  } catch (err) {
    throw new CrossflowError(`the small CLIP (lib/text/clip) is not available: ${(err as Error).message.split('\n')[0]}`);
  }
  const load = mod.loadClip as undefined | (() => unknown);
  if (typeof load !== 'function') throw new CrossflowError('lib/text/clip does not export loadClip()');
  const clip = (await load()) as Record<string, unknown>;
  const embedImages = clip.embedImages as undefined | ((images: unknown) => unknown);
  const embedTexts = clip.embedTexts as undefined | ((captions: string[]) => unknown);
  if (typeof embedImages !== 'function' || typeof embedTexts !== 'function') {
    throw new CrossflowError('the small CLIP does not expose embedImages/embedTexts; CLIP score needs both');
  }
  const toArray = async (t: unknown): Promise<{ data: Float32Array; d: number }> => {
    const v = (await t) as { data?: () => Promise<ArrayLike<number>>; shape?: number[]; dispose?: () => void } | Float32Array;
    if (v instanceof Float32Array) return { data: v, d: 0 };
    if (v && typeof v.data === 'function' && v.shape) {
      const data = Float32Array.from(await v.data());
      v.dispose?.();
      return { data, d: v.shape[v.shape.length - 1] };
    }
    throw new CrossflowError('the small CLIP returned embeddings of an unknown type');
  };
  let dim = Number(clip.dim ?? clip.embedDim ?? 0);
  return {
    get dim() {
      return dim;
    },
    async embedImages(images) {
      const r = await toArray(embedImages.call(clip, images));
      if (r.d) dim = r.d;
      return r.data;
    },
    async embedTexts(captions) {
      const r = await toArray(embedTexts.call(clip, captions));
      if (r.d) dim = r.d;
      return r.data;
    },
  };
}
