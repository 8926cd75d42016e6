// The judges: head encoding/decoding round trip and accuracy bookkeeping by hand, then the
// committed weights measured on the real test splits against their targets, and the FID sanity
// ladder on real data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { generateShapes } from '../../lib/data/shapes/index';
import {
  encodeTargets, decodeHead, shapesJudgeAccuracy, loadJudge, judgeShapes, judgeDigits, digitTestSplit, confusionMatrix,
  HEAD_CHANNELS, GRID, DIGIT_TARGETS, logitFromOffset, offsetFromLogit,
} from '../../lib/eval/judges/index';
import { SHAPES_TARGETS } from '../../lib/eval/judges/trainShapes';
import { fidSanityLadder } from '../../lib/eval/shapesEval';

test('dense head: targets encoded as logits decode back to the same objects', async () => {
  const scenes = generateShapes({ split: 'test', count: 20, seed: 0 });
  const truth = scenes.map((s) => s.attributes.objects);
  const t = encodeTargets(truth);
  // A perfect head: objectness +-20, class logits one-hot x 20, offsets as logits of the targets.
  const offLogit = tf.tensor4d(Float32Array.from((await t.off.data()) as Float32Array, logitFromOffset), t.off.shape as [number, number, number, number]);
  const head = tf.tidy(() => {
    const obj = t.obj.mul(40).sub(20).expandDims(-1); // (B, 8, 8, 1)
    const cls = t.cls;
    const oh = (col: number, n: number) => tf.oneHot(cls.slice([0, 0, 0, col], [-1, -1, -1, 1]).squeeze([3]) as tf.Tensor3D, n).toFloat().mul(20);
    return tf.concat([obj, oh(0, 4), oh(1, 6), oh(2, 2), offLogit], 3);
  });
  assert.deepEqual(head.shape, [20, GRID, GRID, HEAD_CHANNELS]);
  const decoded = decodeHead((await head.data()) as Float32Array, 20);
  tf.dispose([head, offLogit, t.obj, t.cls, t.off]);
  const acc = shapesJudgeAccuracy(truth, decoded, 32);
  for (const k of ['shape', 'color', 'size', 'position', 'count', 'counts', 'scene'] as const) assert.equal(acc[k], 1, k);
  assert.ok(acc.meanCenterError < 1e-3);
  // Border centers are assigned to both neighbouring cells and decode to one object.
  const border = [[{ shape: 'circle', color: 'red', size: 'small', cx: 8, cy: 14 }]] as never;
  const bt = encodeTargets(border);
  assert.equal((await bt.obj.sum().data())[0], 2); // cells x = 1 and 2, y = 3
  tf.dispose([bt.obj, bt.cls, bt.off]);
  assert.ok(Math.abs(offsetFromLogit(logitFromOffset(-0.2)) + 0.2) < 1e-9);
});

test('accuracy bookkeeping by hand: a missed object, a wrong color, an extra detection', () => {
  const t = [
    [{ shape: 'circle', color: 'red', size: 'small', cx: 8, cy: 8 }, { shape: 'square', color: 'blue', size: 'large', cx: 24, cy: 24 }],
    [{ shape: 'diamond', color: 'green', size: 'small', cx: 16, cy: 16 }],
  ] as const;
  const p = [
    [{ shape: 'circle', color: 'red', size: 'small', cx: 8.5, cy: 8, score: 1 }], // square missed
    [{ shape: 'diamond', color: 'yellow', size: 'small', cx: 16, cy: 17, score: 1 }, { shape: 'circle', color: 'red', size: 'small', cx: 4, cy: 28, score: 0.9 }],
  ] as const;
  const a = shapesJudgeAccuracy(t as never, p as never, 32);
  assert.equal(a.shape, 2 / 3); // circle, diamond right; square missed
  assert.equal(a.color, 1 / 3); // diamond's color wrong
  assert.equal(a.count, 0); // 1 of 2, 2 of 1
  assert.equal(a.scene, 0);
  assert.equal(a.meanCenterError, (0.5 + 1) / 2);
  const c = confusionMatrix([0, 1, 1, 2], [0, 1, 2, 2], 3);
  assert.equal(c.accuracy, 0.75);
  assert.deepEqual(c.matrix, [[1, 0, 0], [0, 1, 1], [0, 0, 1]]);
});

test('committed Shapes judge meets its targets on real test scenes; no tensor leak', async () => {
  await initBackend();
  const { model, manifest } = await loadJudge('shapes');
  const test = generateShapes({ split: 'test', count: 600, seed: 0, start: 40000 });
  const before = tf.memory().numTensors;
  const { objects, features } = await judgeShapes(model, test);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(features.length, 600 * 64);
  const acc = shapesJudgeAccuracy(test.map((s) => s.attributes.objects), objects, 32);
  for (const [k, target] of Object.entries(SHAPES_TARGETS)) {
    assert.ok((acc as unknown as Record<string, number>)[k] >= target, `${k}: ${(acc as unknown as Record<string, number>)[k]} < ${target}`);
    assert.ok(manifest.testAccuracy[k] >= target, `manifest ${k}`);
  }
});

test('committed Shapes judge reads the held-out colour-shape pairs too (the generative models never see them)', async () => {
  await initBackend();
  const { model, manifest } = await loadJudge('shapes');
  // seed 2: neither the judge's training scenes (seed 0) nor its manifest's evaluation scenes (seed 1)
  const heldout = generateShapes({ split: 'heldout', count: 400, seed: 2 });
  const { objects } = await judgeShapes(model, heldout);
  const acc = shapesJudgeAccuracy(heldout.map((s) => s.attributes.objects), objects, 32) as unknown as Record<string, number>;
  for (const [k, target] of Object.entries(SHAPES_TARGETS)) {
    assert.ok(acc[k] >= target, `held-out ${k}: ${acc[k]} < ${target}`);
    assert.ok((manifest.heldoutAccuracy ?? {})[k] >= target, `manifest held-out ${k}`);
  }
});

test('committed MNIST and Fashion-MNIST judges meet their targets on the real test splits', async () => {
  await initBackend();
  for (const name of ['mnist', 'fashion'] as const) {
    const { model } = await loadJudge(name);
    const split = digitTestSplit(name);
    const { labels } = await judgeDigits(model, split);
    const { accuracy } = confusionMatrix(split.map((s) => s.label), labels);
    assert.ok(accuracy >= DIGIT_TARGETS[name], `${name}: ${accuracy} < ${DIGIT_TARGETS[name]}`);
  }
});

test('FID sanity ladder on real data: test ~ train << blurred << noise', async () => {
  await initBackend();
  const r = Object.fromEntries((await fidSanityLadder(300)).map((x) => [x.name, x.fid]));
  const train = r['real train'];
  assert.ok(r['real test (other images)'] < r['blur sigma 1'] / 5, JSON.stringify(r));
  assert.ok(train < r['blur sigma 1'] / 5, JSON.stringify(r));
  assert.ok(r['blur sigma 0.5'] < r['blur sigma 1'] && r['blur sigma 1'] < r['blur sigma 2'], JSON.stringify(r));
  assert.ok(r['blur sigma 2'] < r['uniform noise'], JSON.stringify(r));
  assert.ok(r['noise std 25'] < r['uniform noise'], JSON.stringify(r));
});
