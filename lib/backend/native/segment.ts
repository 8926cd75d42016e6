// UnsortedSegmentSum: the gradient of gather (embedding lookups); the wasm backend has none.
import * as tf from '@tensorflow/tfjs';
import { NativeBackend, f32, i32 } from './heap';

/** out[s, ...] = sum of x[i, ...] over i with segmentIds[i] == s; ids outside [0, numSegments) are dropped. */
export function unsortedSegmentSum(backend: NativeBackend, x: tf.TensorInfo, ids: tf.TensorInfo, numSegments: number): tf.TensorInfo {
  const nIds = ids.shape.reduce((p, d) => p * d, 1);
  const inner = x.shape.slice(ids.shape.length).reduce((p, d) => p * d, 1);
  const out = backend.makeOutput([numSegments, ...x.shape.slice(ids.shape.length)], x.dtype);
  const X = x.dtype === 'int32' ? i32(backend, x) : f32(backend, x);
  const O = out.dtype === 'int32' ? i32(backend, out) : f32(backend, out);
  const I = i32(backend, ids);
  O.fill(0);
  for (let i = 0; i < nIds; i++) {
    const s = I[i];
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) O[dst + j] += X[src + j];
  }
  return out;
}

export const unsortedSegmentSumKernel: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'native',
  kernelFunc: (args) => {
    const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
    const { numSegments } = args.attrs as unknown as tf.UnsortedSegmentSumAttrs;
    return unsortedSegmentSum(args.backend as NativeBackend, x, segmentIds, numSegments);
  },
};
