// The ref-dit workload must be the PyTorch reference's model: same parameter count, and it learns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { REF_DIT_CONFIG, refDitForwardFlops, runRefDitBench } from '../../lib/bench/refDit';
import { flowTransformer } from '../../lib/models/flowTransformer';
import { ParamStore } from '../../lib/nn/params';

test('the ref-dit model has exactly the reference parameter count (7,383,556)', async () => {
  await initBackend('native');
  const params = new ParamStore(0);
  flowTransformer(REF_DIT_CONFIG, params);
  assert.equal(params.count(), 7383556);
  params.dispose();
  // matmul FLOPs of one forward pass at batch 32, counted by hand: 32 * 2 * (65 tokens * 6 * 12 D^2 + attention + ...)
  const D = 256;
  const byHand = 2 * 32 * (65 * 6 * 12 * D * D + 6 * 2 * 4 * 65 * 65 * 64 + (256 * D + D * D + 6 * 6 * D * D + 2 * D * D) + 64 * 4 * D * 2);
  assert.equal(refDitForwardFlops(REF_DIT_CONFIG, 32), byHand);
});

test('the benchmark step trains (loss falls on its fixed pair) and leaks no tensors', async () => {
  await initBackend('native');
  const before = tf.memory().numTensors;
  const r = await runRefDitBench({ batch: 4, warmup: 2, steps: 6 });
  assert.equal(r.params, 7383556);
  assert.equal(r.step_ms_all.length, 6);
  assert.ok(r.loss_last < r.loss_first, `loss ${r.loss_first} -> ${r.loss_last}`);
  assert.equal(tf.memory().numTensors, before);
});
