// Checkpoints kept along training (log.keepSteps): the trainer writes ckpt-<step>.ckpt (weights and EMA)
// at each kept step, bit-identical to the state an uninterrupted run has there; a resumed run keeps the ones
// it wrote before and ends with the same files; loadRun(dir, { step }) samples from one; a fresh run into
// the same directory drops the old ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { generateShapes } from '../../lib/data/shapes/index';
import { presetConfig } from '../../lib/models/presets';
import { loadRandomEncoder } from '../../lib/text/random';
import { applyOverrides } from '../../lib/config/overrides';
import { readCheckpoint } from '../../lib/nn/checkpoint';
import { normals } from '../../lib/data/rng';
import { generate, loadRun } from '../../lib/sampling/generate';
import { checkpointPath, CheckpointMeta, keptCheckpointPath, keptSteps, train } from '../../lib/train/trainer';

// 8x8x4 latents (the tiny preset's autoencoder shape), so loadRun can decode samples of these runs.
function prepared() {
  const count = 32;
  const samples = generateShapes({ split: 'train', count, seed: 3 });
  return { data: { latents: normals('keep-latents', count * 8 * 8 * 4), captions: samples.map((s) => s.captions), count, latentSize: 8, latentChannels: 4 }, text: loadRandomEncoder() };
}

const config = (sets: string[] = []) =>
  applyOverrides(presetConfig('tiny'), ['steps=12', 'batchSize=4', 'data.trainCount=32', 'log.checkpointEvery=5', 'log.keepSteps=4,8,12', 'optim.warmupSteps=2', ...sets]);

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cf-keep-'));

async function trainInto(out: string, sets: string[] = [], opts: { stopAfter?: number; resume?: boolean } = {}) {
  const p = prepared();
  try {
    return await train({ config: config(sets), out, prepared: p, ...opts });
  } finally {
    p.text.dispose();
  }
}

/** Every tensor of a checkpoint file, by name. */
function tensorsOf(file: string): Map<string, number[]> {
  return new Map([...readCheckpoint<CheckpointMeta>(file).tensors].map(([k, v]) => [k, Array.from(v.values)]));
}

test('kept steps: ckpt-<step>.ckpt at each, with the weights and EMA an uninterrupted run has there (no optimiser state)', async () => {
  await initBackend();
  const out = tmp();
  await trainInto(out, [], {}); // warm-up (kernels, caches) before counting tensors
  const before = tf.memory().numTensors;
  const fresh = tmp();
  await trainInto(fresh);
  assert.equal(tf.memory().numTensors, before, 'no tensors left by training with kept checkpoints');
  assert.deepEqual(keptSteps(fresh), [4, 8, 12]);
  const k8 = readCheckpoint<CheckpointMeta>(keptCheckpointPath(fresh, 8));
  assert.equal(k8.meta.step, 8);
  assert.ok([...k8.tensors.keys()].every((n) => !n.startsWith('adam_')), 'no optimiser state');
  assert.ok([...k8.tensors.keys()].some((n) => n.startsWith('ema/')));
  // The state at step 8 of a run with the same config stopped there (its checkpoint at 5 + 3 more steps, checkpointEvery 4 here).
  const stopped = tmp();
  await trainInto(stopped, ['log.checkpointEvery=4'], { stopAfter: 8 });
  const at8 = tensorsOf(checkpointPath(stopped));
  for (const [name, values] of tensorsOf(keptCheckpointPath(fresh, 8))) assert.deepEqual(values, at8.get(name), name);
  // The last kept step is the run's final state.
  const last = tensorsOf(checkpointPath(fresh));
  for (const [name, values] of tensorsOf(keptCheckpointPath(fresh, 12))) assert.deepEqual(values, last.get(name), name);
});

test('a run killed after a kept step and resumed keeps that file and ends with the same kept checkpoints', async () => {
  await initBackend();
  const clean = tmp();
  await trainInto(clean);
  const out = tmp();
  await trainInto(out, [], { stopAfter: 6 }); // checkpoint at 5, ckpt-4 kept
  assert.deepEqual(keptSteps(out), [4]);
  const mtime4 = fs.statSync(keptCheckpointPath(out, 4)).mtimeMs;
  const resumed = await trainInto(out, [], { resume: true });
  assert.equal(resumed.resumedFrom, 5);
  assert.deepEqual(keptSteps(out), [4, 8, 12]);
  assert.equal(fs.statSync(keptCheckpointPath(out, 4)).mtimeMs, mtime4, 'the step before the resume point is not rewritten');
  for (const s of [4, 8, 12]) {
    const want = tensorsOf(keptCheckpointPath(clean, s));
    for (const [name, values] of tensorsOf(keptCheckpointPath(out, s))) assert.deepEqual(values, want.get(name), `step ${s} ${name}`);
  }
  // Training afresh into the directory with other kept steps leaves only the new ones.
  await trainInto(out, ['log.keepSteps=6'], { resume: false });
  assert.deepEqual(keptSteps(out), [6]);
});

test('loadRun(dir, { step }) loads a kept step (the last checkpoint for the final step) and names the kept steps otherwise', async () => {
  await initBackend();
  const out = tmp();
  await trainInto(out);
  fs.unlinkSync(keptCheckpointPath(out, 12)); // the final step still loads, from checkpoint.ckpt
  const prompts = ['a red circle', 'a blue square'];
  const images = async (step?: number) => {
    const run = await loadRun(out, step === undefined ? {} : { step });
    try {
      assert.equal(run.step, step ?? 12);
      return generate(run, prompts, { seed: 1, steps: 3 }).images.map((im) => Array.from(im.rgb));
    } finally {
      run.dispose();
    }
  };
  const final = await images();
  assert.deepEqual(await images(12), final);
  const at4 = await images(4);
  assert.notDeepEqual(at4, final, 'the step-4 weights are not the final ones');
  assert.deepEqual(await images(4), at4, 'and load the same each time');
  await assert.rejects(loadRun(out, { step: 7 }), /invalid step: 7; allowed: a kept step of .*: 4, 8/);
  const none = tmp();
  await trainInto(none, ['log.keepSteps=12']);
  fs.unlinkSync(keptCheckpointPath(none, 12));
  await assert.rejects(loadRun(none, { step: 4 }), /kept no checkpoints along training/);
});
