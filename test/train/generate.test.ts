import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { generateShapes } from '../../lib/data/shapes';
import { presetConfig } from '../../lib/models/presets';
import { loadRandomEncoder } from '../../lib/text/random';
import { applyOverrides } from '../../lib/train/config';
import { normals } from '../../lib/train/data';
import { generate, interpolate, loadRun } from '../../lib/train/generate';
import { train } from '../../lib/train/trainer';

// A tiny run on random 8x8x4 "latents" (the sampler does not care what the latents mean); its
// autoencoder is the tiny preset's (trained once and cached under datasets/autoencoders/).
async function tinyRun(sets: string[]): Promise<string> {
  const count = 32;
  const samples = generateShapes({ split: 'train', count, seed: 5 });
  const data = { latents: normals('gen-test', count * 8 * 8 * 4), captions: samples.map((s) => s.captions), count, latentSize: 8, latentChannels: 4 };
  const text = loadRandomEncoder();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-gen-'));
  // lr high enough (and held constant) that 6 steps move the zero-initialised output layers away from zero.
  await train({ config: applyOverrides(presetConfig('tiny'), ['steps=6', 'batchSize=8', 'data.trainCount=32', 'optim.lr=0.01', 'optim.warmupSteps=0', 'optim.schedule=constant', 'emaDecay=0', ...sets]), out, prepared: { data, text } });
  text.dispose();
  return out;
}

const same = (a: Uint8ClampedArray, b: Uint8ClampedArray) => a.length === b.length && a.every((v, i) => v === b[i]);

test('indicator guidance: w = 1 is the unguided sampler, w = 3 differs; no tensors leak', async () => {
  await initBackend();
  const run = await loadRun(await tinyRun([]));
  const prompts = ['a red circle', 'two blue squares'];
  const before = tf.memory().numTensors;
  const none = generate(run, prompts, { guidance: 'none', seed: 1 });
  const w1 = generate(run, prompts, { cfg: 1, seed: 1 });
  const w3 = generate(run, prompts, { cfg: 3, seed: 1 });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(none.images.length, 2);
  assert.equal(none.images[0].rgb.length, 32 * 32 * 3);
  assert.ok(same(none.images[0].rgb, w1.images[0].rgb));
  assert.equal(w3.guidance, 'indicator');
  assert.ok(!same(none.images[0].rgb, w3.images[0].rgb));
  // Interpolation endpoints are the two prompts' own latents.
  const inter = interpolate(run, prompts[0], prompts[1], 2, { seed: 4 });
  assert.equal(inter.images.length, 4);
  run.dispose();
});

test('autoguidance swaps the under-trained weights in and back out', async () => {
  await initBackend();
  const dir = await tinyRun(['guidance.mode=autoguidance', 'guidance.badStep=2']);
  assert.ok(fs.existsSync(path.join(dir, 'bad.ckpt')));
  const run = await loadRun(dir);
  const flowVars = run.models.params.list().filter((v) => v.name.startsWith('flow.'));
  const snapshot = flowVars.map((v) => Array.from(v.dataSync()));
  const ag = generate(run, ['a red circle'], { seed: 2 });
  assert.equal(ag.guidance, 'autoguidance');
  flowVars.forEach((v, i) => assert.deepEqual(Array.from(v.dataSync()), snapshot[i], v.name));
  const plain = generate(run, ['a red circle'], { seed: 2, guidance: 'none' });
  assert.ok(!same(ag.images[0].rgb, plain.images[0].rgb));
  assert.throws(() => generate(run, ['a red circle'], { guidance: 'indicator' }), /guidance.*none or autoguidance/);
  run.dispose();
});

test('two runs loaded side by side each sample exactly as they do alone', async () => {
  await initBackend();
  const dirs = [await tinyRun([]), await tinyRun(['seed=1'])];
  const prompts = ['a red circle', 'two blue squares'];
  const alone = [];
  for (const dir of dirs) {
    const run = await loadRun(dir);
    alone.push(generate(run, prompts, { cfg: 3, seed: 1 }).images[0].rgb);
    run.dispose();
  }
  assert.ok(!same(alone[0], alone[1]), 'the two runs differ');
  // tfjs names variables engine-wide; the second run's copies must neither clash nor overwrite the first's.
  const runs = [await loadRun(dirs[0]), await loadRun(dirs[1])];
  for (let i = 0; i < 2; i++) assert.ok(same(generate(runs[i], prompts, { cfg: 3, seed: 1 }).images[0].rgb, alone[i]), `run ${i}`);
  runs[1].dispose();
  assert.ok(same(generate(runs[0], prompts, { cfg: 3, seed: 1 }).images[0].rgb, alone[0]), 'run 0 after run 1 is disposed');
  runs[0].dispose();
});
