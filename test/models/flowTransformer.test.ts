import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { flowTransformer, FlowTransformerConfig, patchify, sincosPositions2d, unpatchify } from '../../lib/models/flowTransformer';
import { ParamStore } from '../../lib/nn/params';

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

/**
 * A globalCond model against the plain label-form model whose label rows are shifted by each item's summary
 * (`summaryOf` computes it by hand from the globalCond model's variables): the velocities must agree.
 * Every other parameter starts the same because the read-out is created last.
 */
function labelShiftDifference(globalCond: 'linear' | 'mlp', extraParams: number, seed: number, times: [number, number], summaryOf: (z: tf.Tensor4D, v: (n: string) => tf.Variable) => tf.Tensor): number {
  const LABEL: FlowTransformerConfig = { ...SMALL, indicatorForm: 'label' };
  const a = new ParamStore(5);
  const withSummary = flowTransformer({ ...LABEL, globalCond }, a, 'ga');
  const b = new ParamStore(5);
  const plain = flowTransformer(LABEL, b, 'gb');
  assert.equal(a.count() - b.count(), extraParams);
  const z = tf.randomNormal([2, 4, 4, 4], 0, 1, 'float32', seed) as tf.Tensor4D;
  const t = tf.tensor1d(times);
  const ind = tf.tensor1d([0, 1], 'int32'); // one item per indicator row, so each row can carry its own summary
  const summary = summaryOf(z, (n) => a.vars.get(`ga.${n}`)!);
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


test('patch size 2 (every preset): each token holds its 2x2 block of positions, and unpatchify inverts patchify exactly', async () => {
  await initBackend();
  const [B, L, C, P] = [2, 4, 3, 2];
  const values = Float32Array.from({ length: B * L * L * C }, (_, i) => i); // distinct values: any misplacement shows
  const z = tf.tensor4d(values, [B, L, L, C]);
  const tokens = patchify(z, P);
  assert.deepEqual(tokens.shape, [B, (L / P) ** 2, P * P * C]);
  const got = tokens.arraySync() as number[][][];
  const at = (b: number, r: number, c: number, ch: number) => values[((b * L + r) * L + c) * C + ch];
  for (let b = 0; b < B; b++)
    for (let gi = 0; gi < L / P; gi++)
      for (let gj = 0; gj < L / P; gj++) {
        const want: number[] = [];
        for (let pi = 0; pi < P; pi++) for (let pj = 0; pj < P; pj++) for (let ch = 0; ch < C; ch++) want.push(at(b, gi * P + pi, gj * P + pj, ch));
        assert.deepEqual(got[b][gi * (L / P) + gj], want, `token (${gi}, ${gj}) of item ${b}`);
      }
  const back = unpatchify(tokens, L, P);
  assert.deepEqual(Array.from(back.dataSync()), Array.from(values));
  // And through the model: a patch-2 transformer maps (B, L, L, C) to (B, L, L, C) with G*G = 4 tokens.
  const params = new ParamStore(1);
  const model = flowTransformer({ ...SMALL, latentChannels: C, latentSize: L, patchSize: P, init: 'xavier' }, params, 'p2');
  const v = model.apply(z, tf.tensor1d([0.2, 0.7]), tf.tensor1d([1, 0], 'int32'));
  assert.deepEqual(v.shape, [B, L, L, C]);
  tf.dispose([z, tokens, back, v]);
  params.dispose();
});
