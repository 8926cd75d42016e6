import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { circularNeighbourhood3x3, gelu, layerNorm, timestepEmbedding } from '../../lib/nn/layers';

test('GELU (tanh form) and its hand-written gradient match the formula and finite differences', async () => {
  await initBackend('native');
  const xs = [-4, -1.5, -0.3, 0, 0.2, 1, 2.5, 5];
  const x = tf.tensor1d(xs);
  const y = await gelu(x).data();
  const g = await tf.grad((t: tf.Tensor) => gelu(t).sum())(x).data();
  const f = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  xs.forEach((v, i) => {
    assert.ok(Math.abs(y[i] - f(v)) < 1e-5, `gelu(${v}) = ${y[i]}, want ${f(v)}`);
    const h = 1e-3;
    const fd = (f(v + h) - f(v - h)) / (2 * h);
    assert.ok(Math.abs(g[i] - fd) < 1e-3, `gelu'(${v}) = ${g[i]}, finite difference ${fd}`);
  });
});

test('layerNorm has zero mean and unit variance per row; timestep embedding is cos then sin', async () => {
  await initBackend('native');
  const x = tf.tensor2d([[1, 2, 3, 4], [10, 10, 10, 14]]);
  const y = (await layerNorm(x).array()) as number[][];
  for (const row of y) {
    const mean = row.reduce((s, v) => s + v, 0) / row.length;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / row.length;
    assert.ok(Math.abs(mean) < 1e-5);
    assert.ok(Math.abs(variance - 1) < 1e-3);
  }
  const e = (await timestepEmbedding(tf.tensor1d([0.5]), 8).array()) as number[][];
  const freqs = [0, 1, 2, 3].map((i) => Math.exp((-Math.log(10000) * i) / 4));
  freqs.forEach((fr, i) => {
    assert.ok(Math.abs(e[0][i] - Math.cos(0.5 * fr)) < 1e-6);
    assert.ok(Math.abs(e[0][4 + i] - Math.sin(0.5 * fr)) < 1e-6);
  });
});

test('layerNorm gradient (hand-written) equals autodiff through tf.moments', async () => {
  await initBackend('native');
  const x = tf.tensor2d([[0.3, -1.2, 2.0, 0.5, 0.1], [4, 0.7, -0.4, 1.1, -2]]);
  const w = tf.tensor2d([[1, -2, 0.5, 3, 0.2], [0.1, 0.4, -1, 2, 1]]);
  const reference = (t: tf.Tensor) => {
    const { mean, variance } = tf.moments(t, -1, true);
    return t.sub(mean).mul(variance.add(1e-6).rsqrt());
  };
  const ours = await tf.grad((t: tf.Tensor) => layerNorm(t).mul(w).sum())(x).data();
  const want = await tf.grad((t: tf.Tensor) => reference(t).mul(w).sum())(x).data();
  want.forEach((v, i) => assert.ok(Math.abs(v - ours[i]) < 1e-4, `element ${i}: ${ours[i]} vs ${v}`));
});

test('circularNeighbourhood3x3: 3x3 conv through it equals tf.conv2d on the circularly padded input', async () => {
  await initBackend();
  const x = tf.randomNormal([2, 4, 5, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, 3, 2], 0, 1, 'float32', 12) as tf.Tensor4D; // (kh, kw, Cin, Cout)
  const viaSlices = tf.matMul(circularNeighbourhood3x3(x).reshape([-1, 27]), w.reshape([27, 2])).reshape([2, 4, 5, 2]);
  // Reference: wrap one row/column on each side by hand, then a 'valid' convolution.
  const rows = tf.concat([x.slice([0, 3, 0, 0], [2, 1, 5, 3]), x, x.slice([0, 0, 0, 0], [2, 1, 5, 3])], 1);
  const padded = tf.concat([rows.slice([0, 0, 4, 0], [2, 6, 1, 3]), rows, rows.slice([0, 0, 0, 0], [2, 6, 1, 3])], 2) as tf.Tensor4D;
  const reference = tf.conv2d(padded, w, 1, 'valid');
  const d = tf.abs(viaSlices.sub(reference)).max().dataSync()[0];
  assert.ok(d < 1e-4, `max difference ${d}`);
  // One value by hand: output (0, 0, 0) channel 0 reads input rows 3, 0, 1 and columns 4, 0, 1.
  const xs = x.arraySync();
  const ws = w.arraySync();
  let hand = 0;
  [3, 0, 1].forEach((r, ky) => [4, 0, 1].forEach((c, kx) => xs[0][r][c].forEach((v, ci) => (hand += v * ws[ky][kx][ci][0]))));
  assert.ok(Math.abs((viaSlices.arraySync() as number[][][][])[0][0][0][0] - hand) < 1e-4);
  tf.dispose([x, w, viaSlices, rows, padded, reference]);
});
