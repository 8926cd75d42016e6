import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { flowTransformer, FlowTransformerConfig, sincosPositions2d } from '../../lib/models/flowTransformer';
import { ParamStore } from '../../lib/nn/params';
import { timestepEmbedding } from '../../lib/nn/layers';

const SMALL: FlowTransformerConfig = {
  latentChannels: 4, latentSize: 4, patchSize: 1, width: 16, depth: 1, heads: 2, mlpRatio: 2, indicator: true, contextDim: null, init: 'xavier',
};

test('sincos positions: DiT 2D table computed by hand for a 2x2 grid of width 8', () => {
  const t = sincosPositions2d(2, 8); // quarter = 2: omegas 1 and 1/100
  // cell (row 1, col 0) is row index 2: column part [sin 0, sin 0, cos 0, cos 0], row part [sin 1, sin .01, cos 1, cos .01]
  const expected = [0, 0, 1, 1, Math.sin(1), Math.sin(0.01), Math.cos(1), Math.cos(0.01)];
  const row = Array.from(t.subarray(16, 24));
  row.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `dim ${i}: ${v} vs ${expected[i]}`));
  assert.throws(() => sincosPositions2d(2, 6), /divisible by 4/);
});

test("posEmbed 'sincos' trains no position table, and its table is what the model adds", async () => {
  await initBackend();
  const learned = new ParamStore(0);
  flowTransformer(SMALL, learned, 'pa');
  const fixed = new ParamStore(0);
  flowTransformer({ ...SMALL, posEmbed: 'sincos' }, fixed, 'pb');
  assert.equal(learned.count() - fixed.count(), (16 + 1) * 16); // 16 latent tokens + the indicator token
  assert.equal(fixed.constants.length, 1);
  const table = fixed.constants[0].dataSync();
  assert.deepEqual(Array.from(table.subarray(0, 16)), new Array(16).fill(0)); // indicator token: no position
  assert.ok(Math.abs(table[16 + 16 + 0] - Math.sin(1)) < 1e-6); // token (0, 1): column 1
  const before = tf.memory().numTensors;
  fixed.dispose();
  learned.dispose();
  assert.ok(tf.memory().numTensors < before, 'dispose frees the constant table');
});

test('timeScale s makes the model at time t equal the unscaled model at time s t', async () => {
  await initBackend();
  const a = new ParamStore(3);
  const scaled = flowTransformer({ ...SMALL, timeScale: 1000 }, a, 'ta');
  const b = new ParamStore(3);
  const plain = flowTransformer(SMALL, b, 'tb'); // same seed and order: the same initial values
  const z = tf.randomNormal([2, 4, 4, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
  const ind = tf.tensor1d([1, 0], 'int32');
  const y1 = scaled.apply(z, tf.tensor1d([0.25, 0.5]), ind);
  const y2 = plain.apply(z, tf.tensor1d([250, 500]), ind);
  const d = tf.abs(y1.sub(y2)).max().dataSync()[0];
  assert.ok(d < 1e-5, `max difference ${d}`);
  const y3 = plain.apply(z, tf.tensor1d([0.25, 0.5]), ind);
  assert.ok(tf.abs(y1.sub(y3)).max().dataSync()[0] > 1e-3, 'the scale changes the output');
  tf.dispose([z, ind, y1, y2, y3]);
  a.dispose();
  b.dispose();
});

/**
 * A globalCond model against the plain label-form model whose label rows are shifted by each item's summary
 * (`summaryOf` computes it by hand from the globalCond model's variables): the velocities must agree.
 * Every other parameter starts the same because the read-out is created last.
 */
function labelShiftDifference(globalCond: 'linear' | 'mlp' | 'film', extraParams: number, seed: number, times: [number, number], summaryOf: (z: tf.Tensor4D, v: (n: string) => tf.Variable, t: tf.Tensor1D, ind: tf.Tensor1D) => tf.Tensor, globalHidden?: number): number {
  const LABEL: FlowTransformerConfig = { ...SMALL, indicatorForm: 'label' };
  const a = new ParamStore(5);
  const withSummary = flowTransformer({ ...LABEL, globalCond, globalHidden }, a, 'ga');
  const b = new ParamStore(5);
  const plain = flowTransformer(LABEL, b, 'gb');
  assert.equal(a.count() - b.count(), extraParams);
  const z = tf.randomNormal([2, 4, 4, 4], 0, 1, 'float32', seed) as tf.Tensor4D;
  const t = tf.tensor1d(times);
  const ind = tf.tensor1d([0, 1], 'int32'); // one item per indicator row, so each row can carry its own summary
  const summary = summaryOf(z, (n) => a.vars.get(`ga.${n}`)!, t, ind);
  const table = b.vars.get('gb.indicator')!;
  table.assign(table.add(summary));
  const y1 = withSummary.apply(z, t, ind);
  const y2 = plain.apply(z, t, ind);
  const d = tf.abs(y1.sub(y2)).max().dataSync()[0];
  tf.dispose([z, t, ind, summary, y1, y2]);
  a.dispose();
  b.dispose();
  return d;
}

test("globalCond 'linear' adds W flatten(z_t) + b to the conditioning, exactly as a label embedding would", async () => {
  await initBackend();
  const d = labelShiftDifference('linear', 4 * 4 * 4 * 16 + 16, 2, [0.1, 0.7], (z, v) => { // (L*L*C) x D weight + D bias
    v('global.bias').assign(tf.randomNormal([16], 0, 0.5, 'float32', 4));
    return tf.matMul(z.reshape([2, 64]), v('global.weight')).add(v('global.bias')); // (2, 64) x (64, 16) -> (2, 16)
  });
  assert.ok(d < 1e-5, `max difference ${d}`);
});

test("globalCond 'mlp' adds W2 SiLU(W1 flatten(z_t) + b1) + b2 to the conditioning", async () => {
  await initBackend();
  const d = labelShiftDifference('mlp', 4 * 4 * 4 * 16 + 16 + 16 * 16 + 16, 3, [0.2, 0.9], (z, v) => {
    v('global.bias').assign(tf.randomNormal([16], 0, 0.5, 'float32', 4));
    v('global_out.bias').assign(tf.randomNormal([16], 0, 0.5, 'float32', 6));
    return tf.tidy(() => {
      const h = tf.matMul(z.reshape([2, 64]), v('global.weight')).add(v('global.bias')); // (2, 64) x (64, 16) -> (2, 16)
      return tf.matMul(h.mul(tf.sigmoid(h)), v('global_out.weight')).add(v('global_out.bias')); // SiLU, then (2, 16) x (16, 16)
    });
  });
  assert.ok(d < 1e-5, `max difference ${d}`);
});

test("globalCond 'film' scales and shifts the read-out's hidden layer by t: W2 SiLU(h (1 + a) + s) + b2, [a, s] = F SiLU(c) + f", async () => {
  await initBackend();
  const mlpPart = 4 * 4 * 4 * 16 + 16 + 16 * 16 + 16;
  const d = labelShiftDifference('film', mlpPart + 16 * 32 + 32, 3, [0.2, 0.9], (z, v, t, ind) => {
    v('global.bias').assign(tf.randomNormal([16], 0, 0.5, 'float32', 4));
    v('global_out.bias').assign(tf.randomNormal([16], 0, 0.5, 'float32', 6));
    // zero-initialised; random values here, so a wrong wiring of either half shows
    v('global_film.weight').assign(tf.randomNormal([16, 32], 0, 0.5, 'float32', 7));
    v('global_film.bias').assign(tf.randomNormal([32], 0, 0.5, 'float32', 8));
    return tf.tidy(() => {
      const silu = (x: tf.Tensor) => x.mul(tf.sigmoid(x));
      const lin = (x: tf.Tensor, n: string) => tf.matMul(x, v(`${n}.weight`)).add(v(`${n}.bias`));
      // c = time MLP of the sinusoidal embedding + the indicator's label row: what the adaLN layers see
      const c = lin(silu(lin(timestepEmbedding(t, 256), 'time1')), 'time2').add(tf.gather(v('indicator'), ind)); // (2, 16)
      const fs = lin(silu(c), 'global_film'); // (2, 16) x (16, 32) -> (2, 32): [a, s]
      const h = lin(z.reshape([2, 64]), 'global').mul(fs.slice([0, 0], [2, 16]).add(1)).add(fs.slice([0, 16], [2, 16]));
      return lin(silu(h), 'global_out'); // SiLU, then (2, 16) x (16, 16)
    });
  });
  assert.ok(d < 1e-5, `max difference ${d}`);
});

test("globalHidden sets the width of the 'mlp' read-out's hidden layer: W2 (H -> D) SiLU(W1 (L*L*C -> H) flatten(z_t) + b1) + b2", async () => {
  await initBackend();
  const H = 40;
  const d = labelShiftDifference('mlp', 4 * 4 * 4 * H + H + H * 16 + 16, 3, [0.2, 0.9], (z, v) => {
    v('global.bias').assign(tf.randomNormal([H], 0, 0.5, 'float32', 4));
    return tf.tidy(() => {
      const h = tf.matMul(z.reshape([2, 64]), v('global.weight')).add(v('global.bias')); // (2, 64) x (64, 40) -> (2, 40)
      return tf.matMul(h.mul(tf.sigmoid(h)), v('global_out.weight')).add(v('global_out.bias')); // SiLU, then (2, 40) x (40, 16)
    });
  }, H);
  assert.ok(d < 1e-5, `max difference ${d}`);
});

test('longSkips: zero-initialised, so the model starts as the plain DiT; weights on the skip change the output', async () => {
  await initBackend();
  const DEEP: FlowTransformerConfig = { ...SMALL, depth: 5 }; // 2 skips; the middle block has none
  const a = new ParamStore(8);
  const skipped = flowTransformer({ ...DEEP, longSkips: true }, a, 'sa');
  const b = new ParamStore(8);
  const plain = flowTransformer(DEEP, b, 'sb');
  assert.equal(a.count() - b.count(), 2 * (16 * 16 + 16));
  const z = tf.randomNormal([2, 4, 4, 4], 0, 1, 'float32', 9) as tf.Tensor4D;
  const t = tf.tensor1d([0.3, 0.8]);
  const ind = tf.tensor1d([1, 1], 'int32');
  const y1 = skipped.apply(z, t, ind);
  const y2 = plain.apply(z, t, ind);
  assert.ok(tf.abs(y1.sub(y2)).max().dataSync()[0] < 1e-6, 'identical at initialisation');
  for (const k of [0, 1]) {
    const w = a.vars.get(`sa.skip${k}.weight`)!;
    w.assign(tf.randomNormal([16, 16], 0, 0.5, 'float32', 10 + k));
    const y3 = skipped.apply(z, t, ind);
    assert.ok(tf.abs(y3.sub(y2)).max().dataSync()[0] > 1e-3, `skip ${k} is wired into the output`);
    w.assign(tf.zerosLike(w));
    y3.dispose();
  }
  tf.dispose([z, t, ind, y1, y2]);
  a.dispose();
  b.dispose();
});

test('selfCond: no previous estimate is zeros; an estimate changes the output; a model without it refuses one', async () => {
  await initBackend();
  for (const globalCond of ['none', 'film'] as const) {
    const a = new ParamStore(11);
    const model = flowTransformer({ ...SMALL, selfCond: true, globalCond }, a, `sc${globalCond}`);
    const z = tf.randomNormal([2, 4, 4, 4], 0, 1, 'float32', 12) as tf.Tensor4D;
    const prev = tf.randomNormal([2, 4, 4, 4], 0, 1, 'float32', 13) as tf.Tensor4D;
    const t = tf.tensor1d([0.3, 0.8]);
    const ind = tf.tensor1d([1, 0], 'int32');
    const none = model.apply(z, t, ind, undefined, null);
    const zeros = model.apply(z, t, ind, undefined, tf.zerosLike(z));
    const withPrev = model.apply(z, t, ind, undefined, prev);
    assert.ok(tf.abs(none.sub(zeros)).max().dataSync()[0] < 1e-6, `${globalCond}: null is zeros`);
    assert.ok(tf.abs(none.sub(withPrev)).max().dataSync()[0] > 1e-3, `${globalCond}: the estimate reaches the output`);
    tf.dispose([z, prev, t, ind, none, zeros, withPrev]);
    a.dispose();
  }
  const b = new ParamStore(11);
  const plain = flowTransformer(SMALL, b, 'scplain');
  const z = tf.zeros([1, 4, 4, 4]) as tf.Tensor4D;
  assert.throws(() => plain.apply(z, tf.tensor1d([0.5]), tf.tensor1d([1], 'int32'), undefined, z), /no self-conditioning/);
  b.dispose();
});
