import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { generateShapes } from '../../lib/data/shapes';
import { flowMatchingLoss } from '../../lib/flow/loss';
import { pathSample, targetVelocity } from '../../lib/flow/path';
import { timesFrom } from '../../lib/flow/time';
import { buildModels } from '../../lib/models/crossflow';
import { presetConfig } from '../../lib/models/presets';
import { loadRandomEncoder } from '../../lib/text/random';
import { applyOverrides } from '../../lib/train/config';
import { TextImageData, normals } from '../../lib/train/data';
import { drawStep, lossTerms } from '../../lib/train/objective';

function tinyData(count = 16): TextImageData {
  const samples = generateShapes({ split: 'train', count, seed: 3 });
  return { latents: normals('objective-test', count * 4 * 4 * 2), captions: samples.map((s) => s.captions), count, latentSize: 4, latentChannels: 2 };
}

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.abs(a.sub(b)).max().dataSync()[0]);

test('self-conditioning: on a self-conditioned step the loss and gradients are those of the second pass fed the first pass\'s source estimate as a constant', async () => {
  await initBackend();
  const data = tinyData();
  const text = loadRandomEncoder();
  const c = applyOverrides(presetConfig('fm-tiny'), ['batchSize=4', 'data.trainCount=16', 'model.selfCond=true', 'model.globalCond=mlp', 'guidance.uncondProb=0']);
  const models = buildModels(c, { size: 4, channels: 2 }, { tokens: text.maxTokens, dim: text.dim });
  const vars = models.varsOf('all');
  // Move the zero-initialised output layers, so the first pass's estimate is not just z_t.
  for (const v of vars) if (v.name.includes('output') || v.name.includes('ada')) v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 3));
  const draw = drawStep(c, data, 0);
  // By hand: the baseline's z_t, target, and the model's two passes.
  const byHand = (selfCond: boolean) => {
    const B = draw.indices.length;
    const z1 = tf.tensor4d(Float32Array.from(Array.from(draw.indices).flatMap((i) => Array.from(data.latents.subarray(i * 32, (i + 1) * 32)))), [B, 4, 4, 2]);
    const eps = tf.tensor4d(draw.eps, [B, 4, 4, 2]);
    const t = tf.tensor1d(timesFrom({ kind: c.flow.time, mean: c.flow.timeMean, std: c.flow.timeStd }, draw.timeNormals, draw.timeUniforms));
    const enc = text.encode(draw.captions);
    const zt = pathSample(eps, z1, t, c.flow.sigmaMin) as tf.Tensor4D;
    // The estimate is computed outside the gradient: a constant for the second pass.
    const estimate = selfCond ? tf.tidy(() => zt.sub(models.flow.apply(zt, t, null, enc, null).mul(t.reshape([-1, 1, 1, 1])))) as tf.Tensor4D : null;
    const grads = tf.variableGrads(() => flowMatchingLoss(models.flow.apply(zt, t, null, enc, estimate), targetVelocity(eps, z1, c.flow.sigmaMin)), vars);
    tf.dispose([z1, eps, t, enc.tokens, enc.mask, zt, ...(estimate ? [estimate] : [])]);
    return grads;
  };
  const viaObjective = (selfCondUniform: number) => tf.variableGrads(() => lossTerms(models, text, data, { ...draw, selfCondUniform }, 'joint').total, vars);
  for (const [u, on] of [[0.1, true], [0.9, false]] as const) {
    const a = viaObjective(u);
    const b = byHand(on);
    const c2 = byHand(!on);
    assert.ok(Math.abs(a.value.dataSync()[0] - b.value.dataSync()[0]) < 1e-5, `loss at u = ${u}`);
    assert.ok(Math.abs(a.value.dataSync()[0] - c2.value.dataSync()[0]) > 1e-4, `u = ${u}: the other kind of step gives another loss`);
    for (const name of Object.keys(a.grads)) assert.ok(maxDiff(a.grads[name], b.grads[name]) < 1e-5, `gradient of ${name} at u = ${u}`);
    tf.dispose([a.value, b.value, c2.value, ...Object.values(a.grads), ...Object.values(b.grads), ...Object.values(c2.grads)]);
  }
  models.dispose();
  text.dispose();
});

test('drawStep: the self-conditioning coin comes up on about half of the steps', () => {
  const data = tinyData();
  const c = applyOverrides(presetConfig('tiny'), ['batchSize=4', 'data.trainCount=16']);
  const coins = Array.from({ length: 200 }, (_, s) => drawStep(c, data, s).selfCondUniform);
  const half = coins.filter((u) => u < 0.5).length;
  assert.ok(half > 70 && half < 130, `${half} of 200 steps self-conditioned`);
  assert.ok(coins.every((u) => u >= 0 && u < 1));
});
