import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { indicatorBatch } from '../../lib/guidance/indicator';
import { guide, guideDoubled, parseGuidanceMode } from '../../lib/guidance/combine';

test('indicator marks items below p and rotates their targets by one inside the subset', () => {
  const u = [0.5, 0.05, 0.9, 0.01, 0.3, 0.08];
  const b = indicatorBatch(u, 0.1);
  assert.deepEqual(Array.from(b.indicator), [1, 0, 1, 0, 1, 0]);
  // marked = [1, 3, 5]; torch.roll by 1: 1 <- 5, 3 <- 1, 5 <- 3
  assert.deepEqual(Array.from(b.targetIndex), [0, 5, 2, 1, 4, 3]);
  assert.equal(b.unconditional, 3);
  // every marked item flows to another marked item's image, never its own
  for (let i = 0; i < u.length; i++) if (b.indicator[i] === 0) assert.notEqual(b.targetIndex[i], i);
});

test('indicator with fewer than two marked items keeps the batch conditional', () => {
  const b = indicatorBatch([0.5, 0.05, 0.9], 0.1);
  assert.deepEqual(Array.from(b.indicator), [1, 1, 1]);
  assert.deepEqual(Array.from(b.targetIndex), [0, 1, 2]);
  const two = indicatorBatch([0.01, 0.02], 0.1);
  assert.deepEqual(Array.from(two.targetIndex), [1, 0]);
});

test('guidance extrapolates v_weak + w (v_strong - v_weak)', async () => {
  await initBackend();
  const strong = tf.tensor2d([[1, 2]]);
  const weak = tf.tensor2d([[0, 4]]);
  assert.deepEqual(Array.from(await guide(strong, weak, 3).data()), [3, -2]);
  assert.deepEqual(Array.from(await guide(strong, weak, 1).data()), [1, 2]);
  const both = tf.concat([strong, weak], 0);
  assert.deepEqual(Array.from(await guideDoubled(both, 2).data()), [2, 0]);
  assert.throws(() => parseGuidanceMode('cfgg'), /guidance.mode.*none, indicator, autoguidance, cfg/);
});
