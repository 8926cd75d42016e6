// Sum over a contiguous run of axes that is not at the end (bias gradients, broadcast gradients)
// as sgemm with a ones vector: (1, R) x (R, C) -> (C) for each leading index. The wasm Sum first
// transposes such inputs, slowly.
import * as tf from '@tensorflow/tfjs';
import { Blas, NO_TRANS } from './blas';
import { NativeBackend, f32 } from './heap';

let ones = new Float32Array(0);

export function makeSumKernel(blas: Blas, fallback: tf.KernelFunc): tf.KernelConfig {
  return {
    kernelName: tf.Sum,
    backendName: 'native',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
      const rank = x.shape.length;
      const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
      // Reduced axes that form one contiguous run [first, last] view x as (A, R, C) -> (A, C):
      // bias gradients (leading axes) and broadcast gradients such as (B, T, D) -> (B, 1, D).
      const contiguous = axes.length > 0 && axes.every((a, i) => a === axes[0] + i);
      const first = axes[0];
      const last = axes[axes.length - 1];
      const C = x.shape.slice(last + 1).reduce((p, d) => p * d, 1);
      // A trailing run (C = 1) is a row sum, which the wasm kernel does well without transposing.
      if (x.dtype !== 'float32' || !contiguous || last === rank - 1) return fallback(args);
      const A = x.shape.slice(0, first).reduce((p, d) => p * d, 1);
      const R = x.shape.slice(first, last + 1).reduce((p, d) => p * d, 1);
      const outShape = keepDims ? x.shape.map((d, i) => (i >= first && i <= last ? 1 : d)) : x.shape.filter((_, i) => i < first || i > last);
      const backend = args.backend as NativeBackend;
      const out = backend.makeOutput(outShape, 'float32');
      const O = f32(backend, out);
      if (R === 0 || A * C === 0) {
        O.fill(0);
        return out;
      }
      if (ones.length < R) ones = new Float32Array(R).fill(1);
      const X = f32(backend, x);
      for (let a = 0; a < A; a++) {
        // (1, R) x (R, C) -> (1, C)
        blas.sgemm(NO_TRANS, NO_TRANS, 1, C, R, 1, ones, R, X.subarray(a * R * C), C, 0, O.subarray(a * C), C);
      }
      return out;
    },
  };
}
