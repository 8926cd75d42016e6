import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { generateShapes } from '../../lib/data/shapes/index';
import { flowMatchingLoss } from '../../lib/flow/loss';
import { pathSample, targetVelocity } from '../../lib/flow/path';
import { timesFrom } from '../../lib/flow/time';
import { buildModels } from '../../lib/models/crossflow';
import { presetConfig } from '../../lib/models/presets';
import { loadRandomEncoder } from '../../lib/text/random';
import { applyOverrides } from '../../lib/config/overrides';
import { normals } from '../../lib/data/rng';
import type { TextImageData } from '../../lib/trainingData/latents';
import { drawStep, lossTerms } from '../../lib/train/objective';

function tinyData(count = 16): TextImageData {
  const samples = generateShapes({ split: 'train', count, seed: 3 });
  return { latents: normals('objective-test', count * 4 * 4 * 2), captions: samples.map((s) => s.captions), count, latentSize: 4, latentChannels: 2 };
}

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.abs(a.sub(b)).max().dataSync()[0]);

test('a baseline step: the loss and every gradient equal a hand computation of z_t, the target and the model pass', async () => {
  await initBackend();
  const data = tinyData();
  const text = loadRandomEncoder();
  const c = applyOverrides(presetConfig('fm-tiny'), ['batchSize=4', 'data.trainCount=16', 'model.globalCond=mlp', 'guidance.uncondProb=0']);
  const models = buildModels(c, { size: 4, channels: 2 }, { tokens: text.maxTokens, dim: text.dim });
  const vars = models.varsOf('all');
  // Move the zero-initialised output layers, so every parameter gets a gradient.
  for (const v of vars) if (v.name.includes('output') || v.name.includes('ada')) v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 3));
  const draw = drawStep(c, data, 0);
  const B = draw.indices.length;
  const byHand = tf.variableGrads(() => {
    const z1 = tf.tensor4d(Float32Array.from(Array.from(draw.indices).flatMap((i) => Array.from(data.latents.subarray(i * 32, (i + 1) * 32)))), [B, 4, 4, 2]);
    const eps = tf.tensor4d(draw.eps, [B, 4, 4, 2]);
    const t = tf.tensor1d(timesFrom({ kind: c.flow.time, mean: c.flow.timeMean, std: c.flow.timeStd }, draw.timeNormals, draw.timeUniforms));
    const enc = text.encode(draw.captions);
    const zt = pathSample(eps, z1, t, c.flow.sigmaMin) as tf.Tensor4D;
    return flowMatchingLoss(models.flow.apply(zt, t, null, enc), targetVelocity(eps, z1, c.flow.sigmaMin));
  }, vars);
  const viaObjective = tf.variableGrads(() => lossTerms(models, text, data, draw, 'joint').total, vars);
  assert.ok(Math.abs(viaObjective.value.dataSync()[0] - byHand.value.dataSync()[0]) < 1e-6, 'loss');
  for (const name of Object.keys(byHand.grads)) assert.ok(maxDiff(viaObjective.grads[name], byHand.grads[name]) < 1e-6, `gradient of ${name}`);
  assert.ok(Object.values(byHand.grads).every((g) => tf.tidy(() => g.abs().max().dataSync()[0]) > 0), 'every parameter gets a gradient');
  tf.dispose([viaObjective.value, byHand.value, ...Object.values(viaObjective.grads), ...Object.values(byHand.grads)]);
  models.dispose();
  text.dispose();
});
