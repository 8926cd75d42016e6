// Parity of the native backend's own kernels (OpenBLAS and TypeScript) with the reference `cpu`
// backend over many random cases, plus leak checks and the missing-kernel error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { initBackend } from '../../lib/backend/select';
import { nativeKernelSources } from '../../lib/backend/native/register';
import { explainKernelError, withKernelErrors } from '../../lib/backend/kernelErrors';

const rng = seedrandom('native-parity');
const randInt = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
const randArray = (n: number) => Float32Array.from({ length: n }, () => rng() * 2 - 1);

interface Result { shape: number[]; values: Float32Array }

/** Runs fn on a backend with inputs rebuilt there, returns every output's values. */
async function on(backend: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<Result[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(fn);
  const list = Array.isArray(outs) ? outs : [outs];
  const results = await Promise.all(list.map(async (t) => ({ shape: t.shape, values: (await t.data()) as Float32Array })));
  tf.dispose(list);
  return results;
}

function assertClose(got: Result[], want: Result[], label: string, scale = 1): void {
  assert.equal(got.length, want.length, label);
  for (let i = 0; i < got.length; i++) {
    assert.deepEqual(got[i].shape, want[i].shape, `${label}: shape`);
    let worst = 0;
    for (let j = 0; j < want[i].values.length; j++) {
      const err = Math.abs(got[i].values[j] - want[i].values[j]) / (1 + Math.abs(want[i].values[j]));
      worst = Math.max(worst, err);
    }
    assert.ok(worst <= 2e-5 * scale, `${label}: output ${i} max relative error ${worst}`);
  }
}

async function compare(label: string, fn: () => tf.Tensor | tf.Tensor[], scale = 1): Promise<void> {
  const got = await on('native', fn);
  const want = await on('cpu', fn);
  assertClose(got, want, label, scale);
}

test('native backend is selected and replaces the heavy kernels', async () => {
  const report = await initBackend('native');
  assert.equal(report.backend, 'native');
  assert.equal(tf.getBackend(), 'native');
  for (const k of ['BatchMatMul', '_FusedMatMul', 'Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput']) {
    assert.equal(nativeKernelSources[k], 'blas', k);
  }
  assert.equal(nativeKernelSources.UnsortedSegmentSum, 'typescript');
});

/** Reference batched matmul in plain loops, with numpy broadcasting of the batch dims. */
function referenceBatchMatMul(av: Float32Array, aShape: number[], bv: Float32Array, bShape: number[], ta: boolean, tb: boolean): Result {
  const ra = aShape.length; const rb = bShape.length;
  const M = ta ? aShape[ra - 1] : aShape[ra - 2]; const K = ta ? aShape[ra - 2] : aShape[ra - 1];
  const N = tb ? bShape[rb - 2] : bShape[rb - 1];
  const batchA = aShape.slice(0, -2); const batchB = bShape.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const pa = [...new Array(rank - batchA.length).fill(1), ...batchA];
  const pb = [...new Array(rank - batchB.length).fill(1), ...batchB];
  const outBatch = pa.map((d, i) => Math.max(d, pb[i]));
  const nBatch = outBatch.reduce((p, d) => p * d, 1);
  const values = new Float32Array(nBatch * M * N);
  for (let bi = 0; bi < nBatch; bi++) {
    let rem = bi; let ia = 0; let ib = 0; let sa = 1; let sb = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const idx = rem % outBatch[d]; rem = Math.floor(rem / outBatch[d]);
      ia += (pa[d] === 1 ? 0 : idx) * sa; sa *= pa[d];
      ib += (pb[d] === 1 ? 0 : idx) * sb; sb *= pb[d];
    }
    for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
      let sum = 0;
      for (let k = 0; k < K; k++) {
        const x = av[ia * M * K + (ta ? k * M + m : m * K + k)];
        const y = bv[ib * K * N + (tb ? n * K + k : k * N + n)];
        sum += x * y;
      }
      values[(bi * M + m) * N + n] = sum;
    }
  }
  return { shape: [...outBatch, M, N], values };
}

// Against plain loops, not the cpu backend: tfjs 4.22's cpu BatchMatMul returns wrong values when
// both operands broadcast a batch dimension (e.g. [2,1,..] x [1,3,..]).
test('BatchMatMul: transposes, broadcast batch dims, odd sizes', async () => {
  await initBackend('native');
  for (let c = 0; c < 40; c++) {
    const M = randInt(1, 37); const K = randInt(1, 41); const N = randInt(1, 29);
    const ta = rng() < 0.5; const tb = rng() < 0.5;
    const batchShapes: [number[], number[]] = pick([
      [[], []], [[3], [3]], [[4], []], [[], [2]], [[2, 1], [1, 3]], [[1], [5]], [[2, 3], [3]],
    ] as [number[], number[]][]);
    const aShape = [...batchShapes[0], ...(ta ? [K, M] : [M, K])];
    const bShape = [...batchShapes[1], ...(tb ? [N, K] : [K, N])];
    const av = randArray(aShape.reduce((p, d) => p * d, 1));
    const bv = randArray(bShape.reduce((p, d) => p * d, 1));
    const label = `case ${c}: a ${JSON.stringify(aShape)} ta=${ta} b ${JSON.stringify(bShape)} tb=${tb}`;
    const got = await on('native', () => {
      const a = tf.tensor(av, aShape); const b = tf.tensor(bv, bShape);
      // tf.matMul wants equal ranks; the kernel itself broadcasts, so call it directly.
      return tf.engine().runKernel('BatchMatMul', { a, b }, { transposeA: ta, transposeB: tb }) as tf.Tensor;
    });
    assertClose(got, [referenceBatchMatMul(av, aShape, bv, bShape, ta, tb)], label, Math.sqrt(K));
  }
});

test('_FusedMatMul: bias and every activation, with gradients', async () => {
  await initBackend('native');
  const activations = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const;
  for (const activation of activations) {
    const M = randInt(2, 19); const K = randInt(2, 23); const N = randInt(2, 17);
    const av = randArray(M * K); const bv = randArray(K * N); const biasv = randArray(N); const pv = randArray(N);
    await compare(`fused ${activation}`, () => {
      const a = tf.tensor2d(av, [M, K]); const b = tf.tensor2d(bv, [K, N]); const bias = tf.tensor1d(biasv);
      const prelu = tf.tensor1d(pv);
      const f = (x: tf.Tensor2D, w: tf.Tensor2D) =>
        tf.fused.matMul({ a: x, b: w, bias, activation, preluActivationWeights: prelu, leakyreluAlpha: 0.1 }).square().sum();
      const [ga, gb] = tf.grads(f as (...args: tf.Tensor[]) => tf.Tensor)([a, b]);
      return [tf.fused.matMul({ a, b, bias, activation, preluActivationWeights: prelu, leakyreluAlpha: 0.1 }), ga, gb];
    }, Math.sqrt(K) * 4);
  }
});

test('Conv2D and both backprops: strides, padding, dilations, odd sizes', async () => {
  await initBackend('native');
  for (let c = 0; c < 24; c++) {
    const N = randInt(1, 3); const H = randInt(3, 11); const W = randInt(3, 11);
    const C = randInt(1, 5); const O = randInt(1, 6);
    const fh = pick([1, 2, 3]); const fw = pick([1, 3]);
    const pad = pick(['same', 'valid', 1] as const);
    const dilated = rng() < 0.25;
    const stride = dilated ? 1 : pick([1, 2]);
    const dilation = dilated ? 2 : 1;
    if (pad === 'valid' && (H < (fh - 1) * dilation + 1 || W < (fw - 1) * dilation + 1)) continue;
    const xv = randArray(N * H * W * C); const wv = randArray(fh * fw * C * O);
    const label = `case ${c}: x [${N},${H},${W},${C}] w [${fh},${fw},${C},${O}] stride ${stride} pad ${pad} dilation ${dilation}`;
    await compare(label, () => {
      const x = tf.tensor4d(xv, [N, H, W, C]); const w = tf.tensor4d(wv, [fh, fw, C, O]);
      const y = tf.conv2d(x, w, stride, pad, 'NHWC', dilation);
      if (dilation > 1) return [y]; // tfjs has no gradient for dilated conv2d
      const r = tf.randomUniform(y.shape, -1, 1, 'float32', 7);
      const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad).mul(r).sum())([x, w]);
      return [y, gx, gw];
    }, Math.sqrt(fh * fw * C * N * H * W));
  }
});

test('UnsortedSegmentSum and the gradient of gather (embedding lookup)', async () => {
  await initBackend('native');
  for (let c = 0; c < 10; c++) {
    const rows = randInt(1, 30); const inner = randInt(1, 9); const segments = randInt(1, 12);
    const xv = randArray(rows * inner);
    const ids = Int32Array.from({ length: rows }, () => randInt(0, segments - 1));
    await compare(`segment sum ${c}`, () => tf.unsortedSegmentSum(tf.tensor2d(xv, [rows, inner]), tf.tensor1d(ids, 'int32'), segments));
  }
  const table = randArray(12 * 5);
  const idx = Int32Array.from([3, 3, 0, 11, 7, 3]);
  await compare('gather gradient', () => {
    const e = tf.tensor2d(table, [12, 5]);
    return tf.grad((t: tf.Tensor) => tf.gather(t, tf.tensor1d(idx, 'int32')).square().sum())(e);
  });
});

test('a kernel from the cpu fallback (Einsum) matches cpu', async () => {
  await initBackend('native');
  assert.equal(nativeKernelSources.Einsum, 'cpu-fallback');
  const av = randArray(3 * 4); const bv = randArray(4 * 5);
  await compare('einsum', () => tf.einsum('ij,jk->ik', tf.tensor2d(av, [3, 4]), tf.tensor2d(bv, [4, 5])));
});

test('native kernels leak no tensors and free heap memory', async () => {
  await initBackend('native');
  await tf.setBackend('native');
  const x = tf.randomNormal([2, 8, 8, 3]); const w = tf.randomNormal([3, 3, 3, 4]);
  const a = tf.randomNormal([4, 16, 8]); const b = tf.randomNormal([8, 5]); const bias = tf.randomNormal([5]);
  const step = () => tf.tidy(() => {
    const [gx, gw] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 1, 'same').square().sum())([x, w]);
    const m = tf.fused.matMul({ a: a.reshape([64, 8]) as tf.Tensor2D, b: b as tf.Tensor2D, bias, activation: 'relu' });
    const g = tf.grad((t: tf.Tensor) => tf.gather(t, [1, 2, 2]).sum())(b);
    return tf.addN([gx.sum(), gw.sum(), m.sum(), g.sum()]);
  });
  step().dispose();
  const before = tf.memory();
  for (let i = 0; i < 5; i++) step().dispose();
  const after = tf.memory();
  assert.equal(after.numTensors, before.numTensors);
  assert.equal(after.numBytes, before.numBytes);
  tf.dispose([x, w, a, b, bias]);
});

test('a missing kernel is reported by name and backend, with the backends that have it', async () => {
  await initBackend('native');
  const err = explainKernelError(new Error("Kernel 'UnsortedSegmentSum' not registered for backend 'wasm'")) as Error;
  assert.equal(err.name, 'CrossflowError');
  assert.match(err.message, /kernel 'UnsortedSegmentSum' is not available on the 'wasm' backend/);
  assert.match(err.message, /native/);
  // On the real wasm backend the gradient of gather needs that kernel: the wrapped call says so.
  await tf.setBackend('wasm');
  await assert.rejects(
    withKernelErrors(() => tf.tidy(() => tf.grad((t: tf.Tensor) => tf.gather(t, [0, 1]).sum())(tf.ones([3, 2])))),
    /kernel 'UnsortedSegmentSum' is not available on the 'wasm' backend; backends that have it: native, cpu/,
  );
  await tf.setBackend('native');
});

test('Transpose, Unpack and Sum over leading, middle and trailing axes match cpu over random shapes and permutations', async () => {
  await initBackend('native');
  for (let c = 0; c < 30; c++) {
    const rank = randInt(2, 5);
    const shape = Array.from({ length: rank }, () => randInt(1, 6));
    const perm = Array.from({ length: rank }, (_, i) => i).sort(() => rng() - 0.5);
    const size = shape.reduce((p, d) => p * d, 1);
    const xv = randArray(size);
    const nLead = randInt(1, rank - 1);
    const keepDims = rng() < 0.5;
    await compare(`case ${c}: shape ${JSON.stringify(shape)} perm ${JSON.stringify(perm)} lead ${nLead}`, () => {
      const x = tf.tensor(xv, shape);
      const leadAxes = Array.from({ length: nLead }, (_, i) => i);
      return [
        x.transpose(perm),
        ...tf.unstack(x, 0),
        tf.sum(x, leadAxes, keepDims),
        tf.sum(x, Array.from({ length: nLead }, (_, i) => i + (rank - 1 - nLead)), keepDims), // a middle run
        tf.sum(x, [0, rank - 1]), // not contiguous: the wasm kernel
        tf.sum(x, rank - 1), // a trailing-axis sum goes to the wasm kernel
      ];
    }, Math.sqrt(size));
  }
  // int32 transposes too (indices are transposed in gather gradients)
  await compare('int32 transpose', () => tf.tensor([[1, 2, 3], [4, 5, 6]], [2, 3], 'int32').transpose().cast('float32'));
});

test('SplitV on every axis, even and uneven sizes, short and long runs, and Transpose with long runs match cpu', async () => {
  await initBackend('native');
  for (let c = 0; c < 24; c++) {
    const rank = randInt(1, 4);
    const shape = Array.from({ length: rank }, () => randInt(1, 5));
    const axis = randInt(0, rank - 1);
    shape[axis] = randInt(2, 9);
    if (c % 3 === 0) shape[rank - 1] = randInt(33, 80); // runs long enough for the block copy
    const xv = randArray(shape.reduce((p, d) => p * d, 1));
    const n = shape[axis];
    const cut = randInt(1, n - 1);
    const even = [1, n].find((k) => n % k === 0 && k > 1) ?? 1;
    await compare(`split case ${c}: shape ${JSON.stringify(shape)} axis ${axis}`, () => {
      const x = tf.tensor(xv, shape);
      return [...tf.split(x, [cut, n - cut], axis), ...tf.split(x, even, axis), ...tf.split(x.cast('int32'), [cut, -1], axis).map((t) => t.cast('float32'))];
    });
    if (rank >= 2) {
      const perm = [...Array.from({ length: rank - 1 }, (_, i) => i).sort(() => rng() - 0.5), rank - 1]; // keeps the last axis
      await compare(`transpose case ${c}: shape ${JSON.stringify(shape)} perm ${JSON.stringify(perm)}`, () => tf.tensor(xv, shape).transpose(perm));
    }
  }
  // the gradient of split (a concat) on native
  const gv = randArray(32);
  await compare('split gradient', () => tf.grad((x: tf.Tensor) => {
    const [a, b] = tf.split(x, [3, 5], 1);
    return a.sum().add(b.square().sum());
  })(tf.tensor(gv, [4, 8])));
});

test('pooling gradients match cpu (wasm MaxPoolGrad is wrong; native routes it to the cpu kernel)', async () => {
  await initBackend('native');
  assert.equal(nativeKernelSources.MaxPoolGrad, 'cpu-fallback');
  for (let c = 0; c < 6; c++) {
    const N = randInt(1, 2); const H = randInt(4, 9); const W = randInt(4, 9); const C = randInt(1, 4);
    const size = pick([2, 3]); const stride = pick([1, 2]); const pad = pick(['valid', 'same'] as const);
    const xv = randArray(N * H * W * C);
    await compare(`pool case ${c}: [${N},${H},${W},${C}] size ${size} stride ${stride} ${pad}`, () => {
      const x = tf.tensor4d(xv, [N, H, W, C]);
      const gMax = tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, size, stride, pad).square().sum())(x);
      const gAvg = tf.grad((t: tf.Tensor) => tf.avgPool(t as tf.Tensor4D, size, stride, pad).square().sum())(x);
      return [gMax, gAvg];
    });
  }
});
