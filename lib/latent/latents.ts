// Text VE latents as things to compute with: a prompt's z0 (the VE mean, or a sample as the paper
// uses), linear combinations of them, standardisation, and paths between them (linear as in the
// paper, or spherical), all as (N, L, L, C) tensors that the flow then carries to images.
import * as tf from '@tensorflow/tfjs';
import { CrossflowError, invalidValue } from '../errors';
import { generateFrom, LoadedRun, SampleOptions } from '../sampling/generate';
import { normals } from '../data/rng';
import { LinearCombination } from './expression';
import { checkPromptWords } from './vocabulary';

export const ENCODE_MODES = ['mean', 'sampled'] as const;
export type EncodeMode = (typeof ENCODE_MODES)[number];

export interface EncodeOptions {
  /** 'sampled' (default, as in the paper): z0 = mu + sigma eps; 'mean': mu. */
  mode?: EncodeMode;
  /** Seed of eps for 'sampled'. */
  seed?: number;
}

/** A run whose source is a Text VE: the baseline family has none. */
export function checkHasTextVE(run: LoadedRun): void {
  if (!run.models.ve) throw new CrossflowError(`${run.dir} is a ${run.config.family} run (preset ${run.config.preset}) with no Text VE: latent arithmetic needs a CrossFlow run`);
}

/** z0 of each prompt, (N, L, L, C); prompts are checked against the vocabulary first. */
export function encodeTexts(run: LoadedRun, prompts: string[], opts: EncodeOptions = {}): tf.Tensor4D {
  checkHasTextVE(run);
  const mode = opts.mode ?? 'sampled';
  if (!(ENCODE_MODES as readonly string[]).includes(mode)) throw invalidValue('mode', mode, ENCODE_MODES.join(', '));
  for (const p of prompts) checkPromptWords(p, run.text.tokenizer);
  const L = run.config.data.imageSize / 4;
  const C = run.config.autoencoder.latentChannels;
  return tf.tidy(() => {
    const { tokens, mask } = run.text.encode(prompts);
    // eps per (seed, prompt): a prompt's sampled z0 is the same whatever else is encoded with it.
    const eps = mode === 'sampled' ? tf.tensor4d(Float32Array.from(prompts.flatMap((p) => Array.from(normals(`latent:${opts.seed ?? 0}:${p}`, L * L * C)))), [prompts.length, L, L, C]) : null;
    const out = run.models.ve!.apply(tokens, mask, eps);
    return mode === 'sampled' ? out.z0 : out.mu;
  });
}

/** A prompt's z0, (1, L, L, C). */
export function encodeText(run: LoadedRun, prompt: string, opts: EncodeOptions = {}): tf.Tensor4D {
  return encodeTexts(run, [prompt], opts);
}

/** Each item standardised by its own scalar mean and standard deviation (the paper's step after arithmetic). */
export function standardise(z: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const B = z.shape[0];
    const flat = z.reshape([B, -1]);
    const { mean, variance } = tf.moments(flat, 1, true); // (B, 1)
    return flat.sub(mean).div(variance.sqrt().add(1e-12)).reshape(z.shape) as tf.Tensor4D;
  });
}

/** Σ c_p z0(p) for each item of `combos`, (N, L, L, C); each term encoded with the same seed. */
export function combineLatents(run: LoadedRun, combos: LinearCombination[], opts: EncodeOptions & { standardise?: boolean } = {}): tf.Tensor4D {
  const prompts = [...new Set(combos.flatMap((c) => [...c.keys()]))];
  const z = encodeTexts(run, prompts, opts);
  const out = tf.tidy(() => {
    const rows = combos.map((combo) => {
      const weights = new Float32Array(prompts.length);
      for (const [p, c] of combo) weights[prompts.indexOf(p)] += c;
      return tf.matMul(tf.tensor2d(weights, [1, prompts.length]), z.reshape([prompts.length, -1])).reshape(z.shape.slice(1)); // (1, P) x (P, L*L*C) -> (L, L, C)
    });
    const stacked = tf.stack(rows) as tf.Tensor4D;
    return opts.standardise === false ? stacked : standardise(stacked);
  });
  z.dispose();
  return out;
}

export const PATH_MODES = ['lerp', 'slerp'] as const;
export type PathMode = (typeof PATH_MODES)[number];

/** a + s (b - a) for each s, (S, ...) from a, b of shape (1, ...) (the paper's interpolation, no renormalisation). */
export function lerp(a: tf.Tensor, b: tf.Tensor, s: number[]): tf.Tensor {
  return tf.tidy(() => tf.concat(s.map((x) => a.add(b.sub(a).mul(x)))));
}

/**
 * Spherical interpolation of the flattened vectors: sin((1-s) θ)/sin θ a + sin(s θ)/sin θ b, θ the angle
 * between them; it keeps the norm when |a| = |b| (falls back to lerp for nearly parallel vectors).
 */
export function slerp(a: tf.Tensor, b: tf.Tensor, s: number[]): tf.Tensor {
  return tf.tidy(() => {
    const av = a.flatten();
    const bv = b.flatten();
    const cos = av.dot(bv).div(av.norm().mul(bv.norm())).clipByValue(-1, 1).dataSync()[0];
    const theta = Math.acos(cos);
    if (Math.sin(theta) < 1e-6) return lerp(a, b, s);
    return tf.concat(s.map((x) => a.mul(Math.sin((1 - x) * theta) / Math.sin(theta)).add(b.mul(Math.sin(x * theta) / Math.sin(theta)))));
  });
}

/** Fractions 0, 1/(n+1), ..., 1: the endpoints and n points between. */
export function fractions(between: number): number[] {
  return Array.from({ length: between + 2 }, (_, i) => i / (between + 1));
}

/** A path through the prompts' latents, `between` points between each consecutive pair: (K, L, L, C). */
export function interpolationPath(run: LoadedRun, prompts: string[], between: number, mode: PathMode, opts: EncodeOptions = {}): tf.Tensor4D {
  if (prompts.length < 2) throw invalidValue('--prompts', prompts.length, 'at least 2 prompts');
  if (!(PATH_MODES as readonly string[]).includes(mode)) throw invalidValue('--mode', mode, PATH_MODES.join(', '));
  const z = encodeTexts(run, prompts, opts);
  const out = tf.tidy(() => {
    const f = mode === 'lerp' ? lerp : slerp;
    const segments = prompts.slice(1).map((_, i) => {
      const seg = f(z.slice([i], [1]), z.slice([i + 1], [1]), fractions(between));
      return i === 0 ? seg : seg.slice([1]); // the shared endpoint once
    });
    return tf.concat(segments) as tf.Tensor4D;
  });
  z.dispose();
  return out;
}

/**
 * A (steps+2) x (steps+2) grid between four corner prompts [top-left, top-right, bottom-left,
 * bottom-right], bilinear: row r, column c is lerp(lerp(TL, TR, c), lerp(BL, BR, c), r). Row-major.
 */
export function bilinearGrid(run: LoadedRun, corners: [string, string, string, string], between: number, opts: EncodeOptions = {}): tf.Tensor4D {
  const z = encodeTexts(run, corners, opts);
  const out = tf.tidy(() => {
    const s = fractions(between);
    const [tl, tr, bl, br] = [0, 1, 2, 3].map((i) => z.slice([i], [1]));
    const top = lerp(tl, tr, s);
    const bottom = lerp(bl, br, s);
    return tf.concat(s.map((r) => top.add(bottom.sub(top).mul(r)))) as tf.Tensor4D;
  });
  z.dispose();
  return out;
}

/** One image per source latent (B, L, L, C), integrated by the run's flow; `labels` only name them. */
export function sampleFromLatents(run: LoadedRun, z0: tf.Tensor4D, labels: string[], opts: SampleOptions = {}) {
  return generateFrom(run, z0, labels, opts);
}
