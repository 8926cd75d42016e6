import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { klLoss, contrastiveLoss } from '../../lib/models/veLosses';
import { CONTRASTIVE_LOGIT_SCALE_INIT } from '../../lib/config/choices';
import { textVE, TextVEConfig } from '../../lib/models/textVE';
import { ParamStore } from '../../lib/nn/params';
import { convImageEncoder, encoderLoss } from '../../lib/models/encoderLoss';
import { PRESET_NAMES, PRESETS, presetConfig } from '../../lib/models/presets';

const near = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test('KL (paper form) matches 0.5 sum(mu^2 + e^lv - 1 - lv), batch mean', async () => {
  await initBackend();
  const mu = tf.tensor2d([[1, 0], [0.5, -2]]);
  const lv = tf.tensor2d([[0, Math.log(2)], [-1, 0]]);
  const item0 = 0.5 * ((1 + 1 - 1 - 0) + (0 + 2 - 1 - Math.log(2)));
  const item1 = 0.5 * ((0.25 + Math.exp(-1) - 1 + 1) + (4 + 1 - 1 - 0));
  near((await klLoss(mu, lv, 'paper').data())[0], (item0 + item1) / 2);
  // N(0, 1) has zero KL
  near((await klLoss(tf.zeros([3, 4]), tf.zeros([3, 4]), 'paper').data())[0], 0);
});

test('KL (official code form) matches -0.5 sum(1 + lv - (0.3 mu)^6 - e^lv)', async () => {
  await initBackend();
  const mu = tf.tensor2d([[2, -5]]);
  const lv = tf.tensor2d([[0.5, -0.25]]);
  const term = (m: number, l: number) => -0.5 * (1 + l - Math.pow(0.3 * m, 6) - Math.exp(l));
  near((await klLoss(mu, lv, 'code').data())[0], term(2, 0.5) + term(-5, -0.25));
});

test('contrastive loss is symmetric InfoNCE with a raw logit scale', async () => {
  await initBackend();
  const a = tf.tensor2d([[3, 0], [0, 2]]); // normalised: e1, e2
  const b = tf.tensor2d([[1, 1], [0, -1]]); // normalised: (1,1)/sqrt2, (0,-1)
  const s = CONTRASTIVE_LOGIT_SCALE_INIT;
  near(s, Math.log(1 / 0.07));
  const r = Math.SQRT1_2;
  // logits[i][j] = s * <a_i, b_j>
  const L = [[s * r, 0], [s * r, -s]];
  const ce = (row: number[], k: number) => -(row[k] - Math.log(row.reduce((acc, v) => acc + Math.exp(v), 0)));
  const forward = (ce(L[0], 0) + ce(L[1], 1)) / 2;
  const backward = (ce([L[0][0], L[1][0]], 0) + ce([L[0][1], L[1][1]], 1)) / 2;
  near((await contrastiveLoss(a, b, tf.scalar(s)).data())[0], (forward + backward) / 2);
});

test('contrastive L_enc starts from enc.logitScale (default: the official ln(1/0.07))', async () => {
  await initBackend();
  // ln(1/0.07) = 2.6593, the official code's raw (not exponentiated) scale; not 1/0.07 = 14.29.
  for (const name of PRESET_NAMES.filter((n) => PRESETS[n].family === 'crossflow')) near(presetConfig(name).enc.logitScale, 2.659260036932778, 1e-12);
  const p0 = new ParamStore(1);
  encoderLoss(presetConfig('small').enc, { textTokens: 3, textDim: 5, latentSize: 2, latentChannels: 2 }, p0, 'aux');
  near(p0.vars.get('aux.logit_scale')!.dataSync()[0], 2.659260036932778);
  p0.dispose();
  for (const kind of ['it-contrast', 'tt-contrast'] as const) {
    const params = new ParamStore(1);
    encoderLoss({ kind, weight: 1, hidden: 4, logitScale: 14.3 }, { textTokens: 3, textDim: 5, latentSize: 2, latentChannels: 2 }, params, 'aux');
    const scale = params.list().find((v) => v.name === 'aux.logit_scale')!;
    near(scale.dataSync()[0], 14.3);
    params.dispose();
  }
});

function tinyVE(variant: TextVEConfig['variant']): TextVEConfig {
  return { textTokens: 4, textDim: 6, width: 8, layers: 1, heads: 2, ffn: 16, dropout: 0, reductions: 1, latentChannels: 2, latentSize: 2, variant, noiseStd: 0.5 };
}

test('Text VE: shapes, key mask in use, variants sample as specified', async () => {
  await initBackend();
  const params = new ParamStore(0);
  const ve = textVE(tinyVE('ve'), params);
  const tokens = tf.randomNormal([2, 4, 6], 0, 1, 'float32', 3) as tf.Tensor3D;
  const mask = tf.tensor2d([[1, 1, 1, 0], [1, 1, 0, 0]]);
  const eps = tf.randomNormal([2, 2, 2, 2], 0, 1, 'float32', 4) as tf.Tensor4D;
  const out = ve.apply(tokens, mask, eps);
  assert.deepEqual(out.z0.shape, [2, 2, 2, 2]);
  const expected = out.mu.add(eps.mul(out.logvar.mul(0.5).exp()));
  assert.ok(tf.max(tf.abs(out.z0.sub(expected))).dataSync()[0] < 1e-6);
  // plain: z0 = mu; noise: mu + 0.5 eps (same seed -> same weights, so the same mu)
  params.dispose();
  for (const [variant, expectZ] of [['plain', (o: typeof out) => o.mu], ['noise', (o: typeof out) => o.mu.add(eps.mul(0.5))]] as const) {
    const p = new ParamStore(0);
    const o = textVE(tinyVE(variant), p).apply(tokens, mask, eps);
    assert.ok(tf.max(tf.abs(o.z0.sub(expectZ(o)))).dataSync()[0] < 1e-6, variant);
    p.dispose();
  }
  // The key-padding mask is used: the same tokens with every position marked real give another latent.
  const p2 = new ParamStore(0);
  const ve2 = textVE(tinyVE('plain'), p2);
  const masked = ve2.apply(tokens, mask, null).mu.dataSync();
  const unmasked = ve2.apply(tokens, tf.onesLike(mask), null).mu.dataSync();
  assert.ok(masked.some((v, i) => Math.abs(v - unmasked[i]) > 1e-4));
  p2.dispose();
});

test("it-contrast with enc.imageEncoder=conv: a circular shift of the image latent leaves its embedding unchanged", async () => {
  await initBackend();
  const params = new ParamStore(2);
  const embed = convImageEncoder(params, 'shift', 4, 8, 16);
  const z = tf.randomNormal([2, 8, 8, 4], 0, 1, 'float32', 13) as tf.Tensor4D;
  const shifted = tf.concat([z.slice([0, 3, 0, 0], [2, 5, 8, 4]), z.slice([0, 0, 0, 0], [2, 3, 8, 4])], 1) as tf.Tensor4D; // roll rows by 3
  const rolled = tf.concat([shifted.slice([0, 0, 6, 0], [2, 8, 2, 4]), shifted.slice([0, 0, 0, 0], [2, 8, 6, 4])], 2) as tf.Tensor4D; // and columns by 2
  const a = embed(z);
  const b = embed(rolled);
  assert.deepEqual(a.shape, [2, 16]);
  assert.ok(tf.abs(a.sub(b)).max().dataSync()[0] < 1e-4, 'shift-invariant');
  const other = embed(z.reverse(1) as tf.Tensor4D); // a mirrored latent is not a shift: the embedding moves
  assert.ok(tf.abs(a.sub(other)).max().dataSync()[0] > 1e-3);
  // Built through encoderLoss it is the it-contrast image encoder, and an unknown kind names the field.
  const p2 = new ParamStore(2);
  encoderLoss({ kind: 'it-contrast', weight: 1, hidden: 4, logitScale: 2.66, imageEncoder: 'conv', convChannels: 8 }, { textTokens: 3, textDim: 5, latentSize: 8, latentChannels: 4 }, p2, 'auxc');
  assert.ok(p2.vars.has('auxc.image_encoder.conv2.weight'));
  assert.throws(
    () => encoderLoss({ kind: 'it-contrast', weight: 1, hidden: 4, logitScale: 2.66, imageEncoder: 'cnn' as 'conv' }, { textTokens: 3, textDim: 5, latentSize: 8, latentChannels: 4 }, new ParamStore(0), 'auxd'),
    /enc\.imageEncoder.*mlp, conv/,
  );
  tf.dispose([z, shifted, rolled, a, b, other]);
  params.dispose();
  p2.dispose();
});
