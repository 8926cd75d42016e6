// The few layers the CrossFlow models are built from, as functions over a ParamStore.
import * as tf from '@tensorflow/tfjs';
import { FUSED } from '../backend/fusedKernels';
import { fusedAdaLayerNorm, fusedGatedResidual, fusedGelu, hasFusedKernel } from './fused';
import { Init, ParamStore } from './params';

export interface Linear {
  weight: tf.Variable; // (in, out)
  bias: tf.Variable | null; // (out)
  (x: tf.Tensor): tf.Tensor;
}

/** y = x W + b over the last axis: (..., in) -> (..., out); one sgemm on the flattened rows. */
export function linear(
  params: ParamStore, name: string, inDim: number, outDim: number,
  opts: { bias?: boolean; init?: Init; biasInit?: Init } = {},
): Linear {
  const weight = params.create(`${name}.weight`, [inDim, outDim], opts.init ?? 'xavier');
  const bias = opts.bias === false ? null : params.create(`${name}.bias`, [outDim], opts.biasInit ?? 'zeros');
  const f = ((x: tf.Tensor) => {
    const lead = x.shape.slice(0, -1);
    const rows = x.reshape([-1, inDim]) as tf.Tensor2D; // (N, in)
    const y = bias
      ? tf.fused.matMul({ a: rows, b: weight as tf.Tensor2D, bias }) // (N, in) x (in, out) + (out)
      : tf.matMul(rows, weight as tf.Tensor2D);
    return y.reshape([...lead, outDim]);
  }) as Linear;
  f.weight = weight;
  f.bias = bias;
  return f;
}

/**
 * LayerNorm over the last axis without affine parameters (DiT's adaLN supplies scale and shift).
 * The gradient is written out, dx = rstd (dy - mean(dy) - y mean(dy y)), instead of differentiating
 * through tf.moments: three reductions instead of a dozen kernels.
 */
export function layerNorm(x: tf.Tensor, eps = 1e-6): tf.Tensor {
  let f = layerNormByEps.get(eps);
  if (!f) {
    f = makeLayerNorm(eps);
    layerNormByEps.set(eps, f);
  }
  return f(x);
}

// One differentiable function per epsilon (a plain number in its closure, not a tensor input).
const layerNormByEps = new Map<number, (x: tf.Tensor) => tf.Tensor>();

function makeLayerNorm(eps: number): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const mean = x.mean(-1, true);
    const xc = x.sub(mean);
    const rstd = xc.square().mean(-1, true).add(eps).rsqrt();
    const y = xc.mul(rstd);
    save([y, rstd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [ys, r] = saved;
        return dy.sub(dy.mean(-1, true)).sub(ys.mul(dy.mul(ys).mean(-1, true))).mul(r);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;
}

const GELU_C = Math.sqrt(2 / Math.PI);

/**
 * GELU, tanh form: 0.5 x (1 + tanh(u)), u = c (x + 0.044715 x^3), computed as x * sigmoid(2u)
 * (the same function: 0.5 (1 + tanh(u)) = sigmoid(2u)) because Sigmoid is vectorised on wasm and
 * Tanh is not. The gradient is written out so backprop costs a few elementwise kernels:
 *   d/dx = s + x s (1 - s) 2c (1 + 3 * 0.044715 x^2),  s = sigmoid(2u).
 */
const composedGelu = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const x2 = x.square();
  // 2u = x (2c + 2c * 0.044715 x^2): four kernels before the sigmoid
  const s = tf.sigmoid(x2.mul(2 * GELU_C * 0.044715).add(2 * GELU_C).mul(x));
  save([x, s, x2]);
  return {
    value: x.mul(s),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, sg, xsq] = saved;
      const du = xsq.mul(3 * 0.044715 * 2 * GELU_C).add(2 * GELU_C);
      return dy.mul(sg.add(xs.mul(sg).mul(tf.sub(1, sg)).mul(du)));
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

/** GELU: one fused kernel where the backend has it (lib/nn/fused.ts), composed ops elsewhere. */
export function gelu(x: tf.Tensor): tf.Tensor {
  return hasFusedKernel(FUSED.gelu) && x.dtype === 'float32' ? fusedGelu(x) : composedGelu(x);
}

/** SiLU (swish): x * sigmoid(x). */
export function silu(x: tf.Tensor): tf.Tensor {
  return x.mul(tf.sigmoid(x));
}

/** Sinusoidal embedding of t (B,) -> (B, dim): cos then sin, frequencies exp(-ln(maxPeriod) i / half). */
export function timestepEmbedding(t: tf.Tensor1D, dim = 256, maxPeriod = 10000): tf.Tensor2D {
  const half = dim / 2;
  const freqs = tf.exp(tf.range(0, half).mul(-Math.log(maxPeriod) / half)); // (half)
  const args = t.expandDims(1).mul(freqs.expandDims(0)); // (B, 1) * (1, half) -> (B, half)
  return tf.concat([tf.cos(args), tf.sin(args)], -1) as tf.Tensor2D;
}

/** adaLN modulation: x (B, T, D) * (1 + scale (B, D)) + shift (B, D). */
export function modulate(x: tf.Tensor, shift: tf.Tensor, scale: tf.Tensor): tf.Tensor {
  return x.mul(scale.expandDims(1).add(1)).add(shift.expandDims(1));
}

/** DiT's adaLN: LayerNorm(x) (1 + scale) + shift for x (B, T, D), fused where the backend has the kernel. */
export function adaLayerNorm(x: tf.Tensor3D, shift: tf.Tensor2D, scale: tf.Tensor2D, eps = 1e-6): tf.Tensor3D {
  if (hasFusedKernel(FUSED.adaLN)) return fusedAdaLayerNorm(x, shift, scale, eps);
  return modulate(layerNorm(x, eps), shift, scale) as tf.Tensor3D;
}

/** DiT's gated residual x + gate h, x and h (B, T, D), gate (B, D); fused where the backend has the kernel. */
export function gatedResidual(x: tf.Tensor3D, gate: tf.Tensor2D, h: tf.Tensor3D): tf.Tensor3D {
  if (hasFusedKernel(FUSED.gatedResidual)) return fusedGatedResidual(x, gate, h) as tf.Tensor3D;
  return x.add(gate.expandDims(1).mul(h));
}

/**
 * The 3x3 neighbourhood of every position with circular padding: (B, H, W, C) -> (B, H, W, 9C), rows of the
 * neighbourhood in raster order. A Linear on the result is a 3x3 convolution built from slices and one sgemm
 * (the conv kernels are the slow ones on these 2 cores); circular padding makes conv + global pooling exactly
 * invariant to circular shifts of the input.
 */
export function circularNeighbourhood3x3(x: tf.Tensor4D): tf.Tensor4D {
  const [B, H, W, C] = x.shape;
  const rows = tf.concat([x.slice([0, H - 1, 0, 0], [B, 1, W, C]), x, x.slice([0, 0, 0, 0], [B, 1, W, C])], 1); // (B, H+2, W, C)
  const padded = tf.concat([rows.slice([0, 0, W - 1, 0], [B, H + 2, 1, C]), rows, rows.slice([0, 0, 0, 0], [B, H + 2, 1, C])], 2); // (B, H+2, W+2, C)
  const parts: tf.Tensor[] = [];
  for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) parts.push(padded.slice([0, dy, dx, 0], [B, H, W, C]));
  return tf.concat(parts, 3) as tf.Tensor4D;
}
