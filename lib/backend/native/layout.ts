// Transpose and Identity for the native backend. The wasm Transpose walks rank-5 permutations
// element by element (slow for attention's head split); here the innermost contiguous run is
// copied as a block whenever the permutation keeps the last axis in place.
import * as tf from '@tensorflow/tfjs';
import { NativeBackend } from './heap';

type Heap = Float32Array | Int32Array | Uint8Array;

/** Runs at least this long are copied with set(subarray) (a view costs about as much as 30 element copies). */
const BLOCK_COPY_MIN = 32;

/** Copies `sizes[i]` slices along an axis: input viewed as (outer, sum(sizes) * inner), output i as (outer, sizes[i] * inner). */
function splitInto(x: Heap, outer: number, inner: number, sizes: number[], outs: Heap[]): void {
  const rowIn = sizes.reduce((a, b) => a + b, 0) * inner;
  let offset = 0;
  sizes.forEach((size, i) => {
    const run = size * inner;
    const out = outs[i];
    for (let o = 0; o < outer; o++) {
      const src = o * rowIn + offset;
      if (run >= BLOCK_COPY_MIN) out.set(x.subarray(src, src + run), o * run);
      else for (let j = 0; j < run; j++) out[o * run + j] = x[src + j];
    }
    offset += run;
  });
}

/** SplitV (tf.split) on any axis as block copies; the wasm kernel slices each output element-wise. */
export function makeSplitKernel(fallback: tf.KernelFunc): tf.KernelConfig {
  return {
    kernelName: tf.SplitV,
    backendName: 'native',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const { numOrSizeSplits, axis } = args.attrs as unknown as tf.SplitVAttrs;
      if (x.dtype === 'string' || x.dtype === 'complex64') return fallback(args);
      const backend = args.backend as NativeBackend;
      const ax = tf.util.parseAxisParam(axis, x.shape)[0];
      const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, ax);
      const outer = x.shape.slice(0, ax).reduce((p, d) => p * d, 1);
      const inner = x.shape.slice(ax + 1).reduce((p, d) => p * d, 1);
      const outs = sizes.map((size) => backend.makeOutput(x.shape.map((d, i) => (i === ax ? size : d)), x.dtype));
      // views after every allocation: an allocation may grow (and replace) the heap
      if (outer * inner > 0) splitInto(backend.typedArrayFromHeap(x), outer, inner, sizes, outs.map((o) => backend.typedArrayFromHeap(o)));
      return outs;
    },
  };
}

/** out = x.transpose(perm) for row-major data of `shape`. */
export function transposeInto(x: Heap, shape: number[], perm: number[], out: Heap): void {
  const rank = shape.length;
  const inStrides = new Array(rank).fill(1) as number[];
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1] * shape[i + 1];
  const outShape = perm.map((p) => shape[p]);
  const stride = perm.map((p) => inStrides[p]); // input stride of each output axis
  const keepsLast = perm[rank - 1] === rank - 1;
  const run = outShape[rank - 1];
  const outerRank = rank - 1;
  const idx = new Array(outerRank).fill(0) as number[];
  const outer = outShape.slice(0, outerRank).reduce((p, d) => p * d, 1);
  const s = stride[rank - 1];
  let dst = 0;
  let src = 0;
  for (let o = 0; o < outer; o++) {
    if (keepsLast && run >= BLOCK_COPY_MIN) {
      out.set(x.subarray(src, src + run), dst);
      dst += run;
    } else if (keepsLast) {
      for (let j = 0; j < run; j++) out[dst++] = x[src + j]; // a view per short run costs more than the copy
    } else {
      for (let j = 0, p = src; j < run; j++, p += s) out[dst++] = x[p];
    }
    // advance the outer multi-index (odometer), keeping src in step
    for (let d = outerRank - 1; d >= 0; d--) {
      idx[d]++;
      src += stride[d];
      if (idx[d] < outShape[d]) break;
      src -= stride[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

export const transposeKernel: tf.KernelConfig = {
  kernelName: tf.Transpose,
  backendName: 'native',
  kernelFunc: (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { perm } = args.attrs as unknown as tf.TransposeAttrs;
    const backend = args.backend as NativeBackend;
    const outShape = perm.map((p) => x.shape[p]);
    if (perm.every((p, i) => p === i)) {
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: outShape, dtype: x.dtype };
    }
    const out = backend.makeOutput(outShape, x.dtype);
    if (outShape.reduce((p, d) => p * d, 1) > 0) {
      transposeInto(backend.typedArrayFromHeap(x), x.shape, perm, backend.typedArrayFromHeap(out));
    }
    return out;
  },
};

/** Identity shares the input's memory (reference-counted), as the cpu backend does, instead of copying. */
export const identityKernel: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'native',
  kernelFunc: (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const backend = args.backend as NativeBackend;
    if (x.dtype === 'string') return tf.getKernel(tf.Identity, 'wasm').kernelFunc(args);
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  },
};

/** Unpack (tf.unstack) along axis 0: each output is one contiguous block of the input. */
export function makeUnpackKernel(fallback: tf.KernelFunc): tf.KernelConfig {
  return {
    kernelName: tf.Unpack,
    backendName: 'native',
    kernelFunc: (args) => {
      const { value } = args.inputs as { value: tf.TensorInfo };
      const { axis } = args.attrs as unknown as tf.UnpackAttrs;
      if (axis !== 0 || value.dtype === 'string') return fallback(args);
      const backend = args.backend as NativeBackend;
      const n = value.shape[0];
      const shape = value.shape.slice(1);
      const size = shape.reduce((p, d) => p * d, 1);
      const outs: tf.TensorInfo[] = [];
      for (let i = 0; i < n; i++) {
        const out = backend.makeOutput(shape, value.dtype);
        // views are taken after makeOutput: an allocation may grow (and replace) the heap
        backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(value).subarray(i * size, (i + 1) * size));
        outs.push(out);
      }
      return outs;
    },
  };
}
