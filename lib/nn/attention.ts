// Multi-head self-attention (and cross-attention for the baseline) over token sequences.
import * as tf from '@tensorflow/tfjs';
import { FUSED } from '../backend/fusedKernels';
import { fusedSelfAttention, hasFusedKernel } from './fused';
import { Linear, linear } from './layers';
import { ParamStore } from './params';

export interface SelfAttention {
  qkv: Linear;
  proj: Linear;
  (x: tf.Tensor3D, keyMask?: tf.Tensor2D): tf.Tensor3D;
}

/** softmax(q k^T / sqrt(dh) + mask) v for (B, h, Tq, dh), (B, h, Tk, dh); mask (B, Tk) 1 = attend. */
export function scaledDotProduct(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, keyMask?: tf.Tensor2D): tf.Tensor4D {
  const dh = q.shape[3];
  let logits = tf.matMul(q.mul(1 / Math.sqrt(dh)) as tf.Tensor4D, k, false, true); // (B, h, Tq, dh) x (B, h, dh, Tk) -> (B, h, Tq, Tk)
  if (keyMask) {
    // Padding keys get -1e9 so they take no weight; (B, Tk) -> (B, 1, 1, Tk)
    logits = logits.add(tf.sub(1, keyMask).mul(-1e9).reshape([keyMask.shape[0], 1, 1, keyMask.shape[1]]));
  }
  return tf.matMul(tf.softmax(logits), v); // (B, h, Tq, Tk) x (B, h, Tk, dh) -> (B, h, Tq, dh)
}

/** (B, T, D) -> (B, h, T, dh) */
function splitHeads(x: tf.Tensor, heads: number): tf.Tensor4D {
  const [B, T, D] = x.shape;
  return x.reshape([B, T, heads, D / heads]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
}

/** (B, h, T, dh) -> (B, T, D) */
function mergeHeads(x: tf.Tensor4D): tf.Tensor3D {
  const [B, h, T, dh] = x.shape;
  return x.transpose([0, 2, 1, 3]).reshape([B, T, h * dh]) as tf.Tensor3D;
}

/**
 * Attention of every token to every (unmasked) token on the packed projection qkv (B, T, 3D), laid out as
 * qkv(x).reshape([B, T, 3, heads, dh]); heads merged in the output (B, T, D). One fused kernel where the
 * backend has it (q, k and v read in place), reshapes, a transpose and batched products elsewhere.
 */
export function packedSelfAttention(qkv: tf.Tensor3D, heads: number, keyMask?: tf.Tensor2D): tf.Tensor3D {
  if (hasFusedKernel(FUSED.attention)) return fusedSelfAttention(qkv, heads, keyMask);
  const [B, T, D3] = qkv.shape;
  const dh = D3 / 3 / heads;
  // Heads split by a transpose whose leading axis is unstacked: slicing a leading axis is a contiguous
  // copy, unlike tf.split on a middle axis (slow on wasm and cpu).
  const packed = qkv.reshape([B, T, 3, heads, dh]).transpose([2, 0, 3, 1, 4]); // (3, B, h, T, dh)
  const [q, k, v] = tf.unstack(packed) as tf.Tensor4D[];
  return mergeHeads(scaledDotProduct(q, k, v, keyMask));
}

export function selfAttention(params: ParamStore, name: string, dim: number, heads: number): SelfAttention {
  if (dim % heads !== 0) throw new Error(`${name}: width ${dim} is not divisible by heads ${heads}`);
  const qkv = linear(params, `${name}.qkv`, dim, 3 * dim);
  const proj = linear(params, `${name}.proj`, dim, dim);
  // (B, T, D) x (D, 3D) -> (B, T, 3D) -> attention -> (B, T, D) x (D, D) -> (B, T, D)
  const f = ((x: tf.Tensor3D, keyMask?: tf.Tensor2D) => proj(packedSelfAttention(qkv(x) as tf.Tensor3D, heads, keyMask)) as tf.Tensor3D) as SelfAttention;
  f.qkv = qkv;
  f.proj = proj;
  return f;
}

export interface CrossAttention {
  (x: tf.Tensor3D, context: tf.Tensor3D, contextMask?: tf.Tensor2D): tf.Tensor3D;
}

/** Queries from x (B, T, D), keys and values from context (B, S, Dc), as in the standard FM baseline. */
export function crossAttention(params: ParamStore, name: string, dim: number, contextDim: number, heads: number): CrossAttention {
  if (dim % heads !== 0) throw new Error(`${name}: width ${dim} is not divisible by heads ${heads}`);
  const q = linear(params, `${name}.q`, dim, dim);
  const kv = linear(params, `${name}.kv`, contextDim, 2 * dim);
  const proj = linear(params, `${name}.proj`, dim, dim);
  return (x, context, contextMask) => {
    const [B, S] = context.shape;
    const packed = kv(context).reshape([B, S, 2, heads, dim / heads]).transpose([2, 0, 3, 1, 4]); // (2, B, h, S, dh)
    const [k, v] = tf.unstack(packed) as tf.Tensor4D[];
    return proj(mergeHeads(scaledDotProduct(splitHeads(q(x), heads), k, v, contextMask))) as tf.Tensor3D;
  };
}
