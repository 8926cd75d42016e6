// BatchMatMul and _FusedMatMul on OpenBLAS sgemm, reading and writing the wasm heap in place.
import * as tf from '@tensorflow/tfjs';
import { Blas, NO_TRANS, TRANS } from './blas';
import { NativeBackend, dispose, f32, runKernel } from './heap';

/** Row-major strides of a batch shape, with broadcast dimensions (size 1) given stride 0. */
function broadcastStrides(batch: number[], outBatch: number[]): number[] {
  const padded = new Array(outBatch.length - batch.length).fill(1).concat(batch) as number[];
  const strides = new Array(outBatch.length).fill(0) as number[];
  let s = 1;
  for (let i = padded.length - 1; i >= 0; i--) {
    strides[i] = padded[i] === 1 ? 0 : s;
    s *= padded[i];
  }
  return strides;
}

/**
 * out[..., M, N] = op(a)[..., M, K] op(b)[..., K, N] with numpy-style broadcasting of the batch dims.
 * Allocates the output on the heap and returns it.
 */
export function batchMatMul(
  blas: Blas, backend: NativeBackend, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean,
  bias?: tf.TensorInfo,
): tf.TensorInfo {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const Kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (K !== Kb) {
    throw new Error(`BatchMatMul: inner dimensions differ: a ${JSON.stringify(a.shape)} (transposeA=${transposeA}) and b ${JSON.stringify(b.shape)} (transposeB=${transposeB})`);
  }
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const outBatch = tf.backend_util.assertAndGetBroadcastShape(batchA, batchB);
  const out = backend.makeOutput([...outBatch, M, N], 'float32');
  const nBatch = outBatch.reduce((p, d) => p * d, 1);
  if (M * N === 0) return out;
  const C = f32(backend, out);
  if (K === 0) {
    C.fill(0);
    return out;
  }
  const A = f32(backend, a);
  const B = f32(backend, b);
  const lda = a.shape[ra - 1];
  const ldb = b.shape[rb - 1];
  const ta = transposeA ? TRANS : NO_TRANS;
  const tb = transposeB ? TRANS : NO_TRANS;
  const sizeB = B.length / Math.max(1, batchB.reduce((p, d) => p * d, 1));
  const batchesA = batchA.reduce((p, d) => p * d, 1);
  if (!transposeA && sizeB === B.length && batchesA === nBatch) {
    // b is shared by every batch: fold a's batches into rows, one large sgemm. (nBatch*M, K) x (K, N)
    // A bias (N) is written into every row first and the product added to it (beta = 1): no second pass.
    const withBias = bias !== undefined && bias.shape.length === 1 && bias.shape[0] === N && bias.dtype === 'float32';
    if (withBias) {
      const row = f32(backend, bias);
      for (let r = 0; r < nBatch * M; r++) C.set(row, r * N);
    }
    blas.sgemm(ta, tb, nBatch * M, N, K, 1, A, lda, B, ldb, withBias ? 1 : 0, C, N);
    if (withBias) biasApplied.add(out.dataId);
    return out;
  }
  const sizeA = M * K;
  const stridesA = broadcastStrides(batchA, outBatch);
  const stridesB = broadcastStrides(batchB, outBatch);
  const index = new Array(outBatch.length).fill(0) as number[];
  for (let i = 0; i < nBatch; i++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < index.length; d++) {
      ia += index[d] * stridesA[d];
      ib += index[d] * stridesB[d];
    }
    blas.sgemm(
      ta, tb, M, N, K, 1,
      A.subarray(ia * sizeA, (ia + 1) * sizeA), lda,
      B.subarray(ib * sizeB, (ib + 1) * sizeB), ldb,
      0, C.subarray(i * M * N, (i + 1) * M * N), N,
    );
    for (let d = index.length - 1; d >= 0; d--) {
      if (++index[d] < outBatch[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

/** Outputs of batchMatMul that already hold the bias it was given (the fast path above). */
const biasApplied = new WeakSet<object>();

const ACTIVATION_KERNELS: Record<string, string> = {
  relu: 'Relu', relu6: 'Relu6', elu: 'Elu', sigmoid: 'Sigmoid', leakyrelu: 'LeakyRelu', prelu: 'Prelu',
};

/** Applies a fused activation by running the backend's own kernel; disposes the input. */
export function applyActivation(
  backend: NativeBackend, x: tf.TensorInfo, activation: string | undefined,
  preluWeights: tf.TensorInfo | undefined, leakyreluAlpha: number | undefined,
): tf.TensorInfo {
  if (activation == null || activation === 'linear') return x;
  const kernel = ACTIVATION_KERNELS[activation];
  if (!kernel) throw new Error(`fused activation '${activation}' is not supported; allowed: linear, ${Object.keys(ACTIVATION_KERNELS).join(', ')}`);
  const inputs: tf.NamedTensorInfoMap = activation === 'prelu' ? { x, alpha: preluWeights as tf.TensorInfo } : { x };
  const attrs: tf.NamedAttrMap = activation === 'leakyrelu' ? { alpha: leakyreluAlpha ?? 0.2 } : {};
  const y = runKernel(backend, kernel, inputs, attrs);
  dispose(backend, x);
  return y;
}

export function makeMatMulKernels(blas: Blas, fallback: { batchMatMul: tf.KernelFunc; fusedMatMul: tf.KernelFunc }): tf.KernelConfig[] {
  const batchMatMulKernel: tf.KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return fallback.batchMatMul(args);
    const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
    return batchMatMul(blas, args.backend as NativeBackend, a, b, transposeA, transposeB);
  };
  const fusedMatMulKernel: tf.KernelFunc = (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    if (a!.dtype !== 'float32' || b!.dtype !== 'float32') return fallback.fusedMatMul(args);
    const { transposeA, transposeB, activation, leakyreluAlpha } = args.attrs as unknown as tf._FusedMatMulAttrs;
    const backend = args.backend as NativeBackend;
    let out = batchMatMul(blas, backend, a!, b!, transposeA, transposeB, bias);
    if (bias && !biasApplied.has(out.dataId)) {
      const withBias = runKernel(backend, 'Add', { a: out, b: bias });
      dispose(backend, out);
      out = withBias;
    }
    return applyActivation(backend, out, activation, preluActivationWeights, leakyreluAlpha);
  };
  return [
    { kernelName: tf.BatchMatMul, backendName: 'native', kernelFunc: batchMatMulKernel },
    { kernelName: tf._FusedMatMul, backendName: 'native', kernelFunc: fusedMatMulKernel },
  ];
}
