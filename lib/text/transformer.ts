// A tiny pre-LN transformer encoder written with plain tf ops over a flat map of named weights,
// shared by the `lm` text encoder and both towers of the small CLIP. Embedding lookups are one-hot
// matmuls: the vocabulary is ~80 words, and this keeps the gradient a matmul on every backend.
import * as tf from '@tensorflow/tfjs';
import { Rng, makeRng } from '../data/rng';

export interface TransformerConfig {
  dim: number;
  heads: number;
  layers: number;
  ffn: number;
  /** Number of positions (tokens or patches). */
  positions: number;
}

export type Weights = Record<string, tf.Tensor>;

function normalInit(rng: Rng, shape: number[], std: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal() * std;
  return tf.tensor(v, shape);
}

/** Creates the weights of `layers` blocks plus a learned position table and a final norm, under `prefix`. */
export function initTransformer(prefix: string, cfg: TransformerConfig, seed: number): Weights {
  const rng = makeRng(`${prefix}:${seed}`);
  const { dim: d, ffn: f } = cfg;
  const w: Weights = {};
  w[`${prefix}.pos`] = normalInit(rng, [cfg.positions, d], 0.02);
  for (let l = 0; l < cfg.layers; l++) {
    const p = `${prefix}.block${l}`;
    w[`${p}.ln1.g`] = tf.ones([d]);
    w[`${p}.ln1.b`] = tf.zeros([d]);
    w[`${p}.qkv.w`] = normalInit(rng, [d, 3 * d], Math.sqrt(1 / d));
    w[`${p}.qkv.b`] = tf.zeros([3 * d]);
    // Residual projections start small (GPT-2 style scaling by depth).
    w[`${p}.proj.w`] = normalInit(rng, [d, d], Math.sqrt(1 / d) / Math.sqrt(2 * cfg.layers));
    w[`${p}.proj.b`] = tf.zeros([d]);
    w[`${p}.ln2.g`] = tf.ones([d]);
    w[`${p}.ln2.b`] = tf.zeros([d]);
    w[`${p}.fc1.w`] = normalInit(rng, [d, f], Math.sqrt(1 / d));
    w[`${p}.fc1.b`] = tf.zeros([f]);
    w[`${p}.fc2.w`] = normalInit(rng, [f, d], Math.sqrt(1 / f) / Math.sqrt(2 * cfg.layers));
    w[`${p}.fc2.b`] = tf.zeros([d]);
  }
  w[`${prefix}.lnf.g`] = tf.ones([d]);
  w[`${prefix}.lnf.b`] = tf.zeros([d]);
  return w;
}

export function normalWeights(seedKey: string, shape: number[], std: number): tf.Tensor {
  return normalInit(makeRng(seedKey), shape, std);
}

export function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps = 1e-5): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), g), b);
}

/** GELU, sigmoid approximation x * sigmoid(1.702 x) (cheaper than tanh/pow on the wasm-based backends). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
}

/** (B, T, D) x (D, E) + (E) -> (B, T, E) */
export function dense(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const shape = x.shape;
  const flat = tf.reshape(x, [-1, shape[shape.length - 1]]);
  let y = tf.matMul(flat as tf.Tensor2D, w as tf.Tensor2D);
  if (b) y = tf.add(y, b);
  return tf.reshape(y, [...shape.slice(0, -1), w.shape[1] as number]);
}

/** Token embeddings by one-hot matmul: ids (B, T) -> (B, T, D). */
export function embed(ids: tf.Tensor2D, table: tf.Tensor): tf.Tensor3D {
  const [B, T] = ids.shape;
  const oneHot = tf.oneHot(tf.reshape(ids, [-1]) as tf.Tensor1D, table.shape[0]); // (B*T, V)
  return tf.reshape(tf.matMul(tf.cast(oneHot, 'float32') as tf.Tensor2D, table as tf.Tensor2D), [B, T, table.shape[1] as number]);
}

/**
 * Runs the blocks on x (B, T, D) with a key-padding mask (B, T) (1 = attend, 0 = padding).
 * Bidirectional attention; returns the final-normed states (B, T, D).
 */
export function runTransformer(w: Weights, prefix: string, cfg: TransformerConfig, x: tf.Tensor3D, mask?: tf.Tensor2D): tf.Tensor3D {
  const [B, T, D] = x.shape;
  const H = cfg.heads;
  const dh = D / H;
  let h: tf.Tensor = tf.add(x, tf.slice(w[`${prefix}.pos`], [0, 0], [T, D]));
  // (B, 1, 1, T): 0 where attending, -1e9 on padding keys.
  const bias = mask ? tf.reshape(tf.mul(tf.sub(1, mask), -1e9), [B, 1, 1, T]) : null;
  for (let l = 0; l < cfg.layers; l++) {
    const p = `${prefix}.block${l}`;
    const a = layerNorm(h, w[`${p}.ln1.g`], w[`${p}.ln1.b`]);
    // Separate q, k, v slices of the last axis (cheap), then heads: (B, T, D) -> (B, H, T, dh).
    const qkv = dense(a, w[`${p}.qkv.w`], w[`${p}.qkv.b`]); // (B, T, 3D)
    const heads = (k: number) => tf.transpose(tf.reshape(tf.slice(qkv, [0, 0, k * D], [B, T, D]), [B, T, H, dh]), [0, 2, 1, 3]);
    const q = heads(0);
    const k = heads(1);
    const v = heads(2);
    let att = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)); // (B, H, T, T)
    if (bias) att = tf.add(att, bias);
    const o = tf.matMul(tf.softmax(att), v); // (B, H, T, dh)
    const merged = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [B, T, D]);
    h = tf.add(h, dense(merged, w[`${p}.proj.w`], w[`${p}.proj.b`]));
    const m = layerNorm(h, w[`${p}.ln2.g`], w[`${p}.ln2.b`]);
    h = tf.add(h, dense(gelu(dense(m, w[`${p}.fc1.w`], w[`${p}.fc1.b`])), w[`${p}.fc2.w`], w[`${p}.fc2.b`]));
  }
  return layerNorm(h, w[`${prefix}.lnf.g`], w[`${prefix}.lnf.b`]) as tf.Tensor3D;
}

/** Mean over unmasked positions: (B, T, D), (B, T) -> (B, D). */
export function maskedMean(x: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor2D {
  const m = tf.expandDims(mask, -1); // (B, T, 1)
  return tf.div(tf.sum(tf.mul(x, m), 1), tf.maximum(tf.sum(m, 1), 1)) as tf.Tensor2D;
}

export function countParams(w: Weights): number {
  return Object.values(w).reduce((n, t) => n + t.size, 0);
}
