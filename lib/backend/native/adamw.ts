// One fused AdamW pass over a parameter, in place on the wasm heap: a single loop instead of ten
// elementwise kernels (and ten temporary tensors) per parameter per step; in the C addon when it is loaded.
import * as tf from '@tensorflow/tfjs';
import { NativeBackend, f32 } from './heap';
import { loadedFusedAddon } from './loadAddon';

export interface AdamWStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1 - beta1^t and 1 - beta2^t */
  bc1: number;
  bc2: number;
}

/** p, m, v are updated in place (their memory is mutated; tensors sharing it see the new values). */
export function adamwInPlace(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: AdamWStep): void {
  const backend = tf.backend() as unknown as NativeBackend;
  const P = f32(backend, p);
  const G = f32(backend, g);
  const M = f32(backend, m);
  const V = f32(backend, v);
  const addon = loadedFusedAddon();
  if (addon) {
    // the same loop in C, split over the addon's threads
    addon.adamw(P, G, M, V, s.lr, s.beta1, s.beta2, s.eps, s.weightDecay, s.bc1, s.bc2);
    return;
  }
  const decay = 1 - s.lr * s.weightDecay;
  const stepSize = s.lr / s.bc1;
  const invBc2 = 1 / s.bc2;
  const b1 = s.beta1;
  const b2 = s.beta2;
  const c1 = 1 - b1;
  const c2 = 1 - b2;
  const eps = s.eps;
  for (let i = 0, n = P.length; i < n; i++) {
    const gi = G[i];
    const mi = b1 * M[i] + c1 * gi;
    const vi = b2 * V[i] + c2 * gi * gi;
    M[i] = mi;
    V[i] = vi;
    P[i] = P[i] * decay - (stepSize * mi) / (Math.sqrt(vi * invBc2) + eps);
  }
}
