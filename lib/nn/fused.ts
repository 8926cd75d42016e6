// Layers that run as one fused kernel where the active backend has it (native with the C addon:
// lib/backend/native/fused.ts) and as composed tf ops elsewhere. Same function either way, to fp32
// rounding (test/nn/fused.test.ts); the fused forms read and write each tensor once instead of a dozen times.
import * as tf from '@tensorflow/tfjs';
import { FUSED } from '../backend/fusedKernels';

export function hasFusedKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

type Grad = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
type Forward = (...args: Array<tf.Tensor | tf.GradSaveFunc>) => { value: tf.Tensor; gradFunc: Grad };
function customGrad<F>(f: Forward): F {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as F;
}

function run(kernel: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}): tf.Tensor[] {
  const out = tf.engine().runKernel(kernel, inputs, attrs);
  return Array.isArray(out) ? out : [out];
}

type AdaLN = (x: tf.Tensor, shift: tf.Tensor, scale: tf.Tensor) => tf.Tensor;
const adaLNByEps = new Map<number, AdaLN>();

/** LayerNorm(x) (1 + scale) + shift, x (B, T, D), shift and scale (B, D), as one kernel forward and one backward. */
export function fusedAdaLayerNorm(x: tf.Tensor3D, shift: tf.Tensor2D, scale: tf.Tensor2D, eps: number): tf.Tensor3D {
  let f = adaLNByEps.get(eps);
  if (!f) {
    f = customGrad<AdaLN>((xs, sh, sc, save) => {
      const [y, xhat, rstd] = run(FUSED.adaLN, { x: xs as tf.Tensor, shift: sh as tf.Tensor, scale: sc as tf.Tensor }, { eps });
      (save as tf.GradSaveFunc)([xhat, rstd, sc as tf.Tensor]);
      return {
        value: y,
        gradFunc: (dy, [xh, rs, s]) => run(FUSED.adaLNGrad, { dy, xhat: xh, rstd: rs, scale: s }),
      };
    });
    adaLNByEps.set(eps, f);
  }
  return f(x, shift, scale) as tf.Tensor3D;
}

/** x + gate h for x and h (B, T, D), gate (B, D): DiT's gated residual, one pass forward and one backward. */
export const fusedGatedResidual = customGrad<(x: tf.Tensor, gate: tf.Tensor, h: tf.Tensor) => tf.Tensor>((x, gate, h, save) => {
  const [y] = run(FUSED.gatedResidual, { x: x as tf.Tensor, gate: gate as tf.Tensor, h: h as tf.Tensor });
  (save as tf.GradSaveFunc)([gate as tf.Tensor, h as tf.Tensor]);
  return {
    value: y,
    gradFunc: (dy, [g, hs]) => {
      const [dh, dgate] = run(FUSED.gatedResidualGrad, { dy, gate: g, h: hs });
      return [dy.clone(), dgate, dh];
    },
  };
});

/** GELU (tanh form), the derivative recomputed from x in the backward kernel. */
export const fusedGelu = customGrad<(x: tf.Tensor) => tf.Tensor>((x, save) => {
  const [y] = run(FUSED.gelu, { x: x as tf.Tensor });
  (save as tf.GradSaveFunc)([x as tf.Tensor]);
  return { value: y, gradFunc: (dy, [xs]) => run(FUSED.geluGrad, { x: xs, dy })[0] };
});

type Attend = (qkv: tf.Tensor, mask?: tf.Tensor) => tf.Tensor;
const attendByHeads = new Map<string, Attend>();

/**
 * Multi-head self-attention on the packed projection qkv (B, T, 3D), laid out as
 * qkv(x).reshape([B, T, 3, heads, dh]): softmax(q k^T / sqrt(dh) + mask) v with heads merged, (B, T, D).
 * keyMask (B, T), float32, 1 = attend: padding keys get -1e9 added to their logits.
 */
export function fusedSelfAttention(qkv: tf.Tensor3D, heads: number, keyMask?: tf.Tensor2D): tf.Tensor3D {
  const key = `${heads}:${keyMask ? 'masked' : 'all'}`;
  let f = attendByHeads.get(key);
  if (!f) {
    f = keyMask
      ? customGrad<Attend>((packed, mask, save) => {
          const [out, probs] = run(FUSED.attention, { qkv: packed as tf.Tensor, mask: mask as tf.Tensor }, { heads });
          (save as tf.GradSaveFunc)([packed as tf.Tensor, probs, mask as tf.Tensor]);
          return {
            value: out,
            // the mask is data: no gradient flows to it
            gradFunc: (dy, [q, p, m]) => [run(FUSED.attentionGrad, { qkv: q, probs: p, dy }, { heads })[0], tf.zerosLike(m)],
          };
        })
      : customGrad<Attend>((packed, save) => {
          const [out, probs] = run(FUSED.attention, { qkv: packed as tf.Tensor }, { heads });
          (save as tf.GradSaveFunc)([packed as tf.Tensor, probs]);
          return { value: out, gradFunc: (dy, [q, p]) => run(FUSED.attentionGrad, { qkv: q, probs: p, dy }, { heads })[0] };
        });
    attendByHeads.set(key, f);
  }
  return (keyMask ? f(qkv, keyMask.dtype === 'float32' ? keyMask : keyMask.toFloat()) : f(qkv)) as tf.Tensor3D;
}
