// Sum over leading axes (bias gradients, batch sums) as one sgemm with a ones vector:
// (1, lead) x (lead, rest) -> (rest). The wasm Sum first transposes such inputs, slowly.
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
      const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
      if (x.dtype !== 'float32' || !leading) return fallback(args);
      const lead = x.shape.slice(0, axes.length).reduce((p, d) => p * d, 1);
      const restShape = x.shape.slice(axes.length);
      const rest = restShape.reduce((p, d) => p * d, 1);
      const outShape = keepDims ? [...axes.map(() => 1), ...restShape] : restShape;
      const backend = args.backend as NativeBackend;
      const out = backend.makeOutput(outShape, 'float32');
      const O = f32(backend, out);
      if (lead === 0 || rest === 0) {
        O.fill(0);
        return out;
      }
      if (ones.length < lead) ones = new Float32Array(lead).fill(1);
      // (1, lead) x (lead, rest) -> (1, rest)
      blas.sgemm(NO_TRANS, NO_TRANS, 1, rest, lead, 1, ones, lead, f32(backend, x), rest, 0, O, rest);
      return out;
    },
  };
}
