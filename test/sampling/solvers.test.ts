// The sampler's second-order solvers on trained (tiny) runs: every evaluation of the velocity is guided
// (one doubled batch per evaluation for the CFG indicator and the baseline's classic CFG, the bad model
// swapped in for autoguidance), Heun's last evaluation at t = 1 included; they converge to the same
// images as a fine Euler run; no tensors leak.
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
import { normals } from '../../lib/data/rng';
import { nfeOf, Solver } from '../../lib/flow/solver';
import { generate, LoadedRun, loadRun } from '../../lib/sampling/generate';
import { train } from '../../lib/train/trainer';

// A tiny run on random 8x8x4 "latents" (the sampler does not care what they mean), as test/sampling/generate.test.ts.
async function tinyRun(preset: 'tiny' | 'fm-tiny', sets: string[] = []): Promise<LoadedRun> {
  const count = 32;
  const samples = generateShapes({ split: 'train', count, seed: 5 });
  const data = { latents: normals('solver-test', count * 8 * 8 * 4), captions: samples.map((s) => s.captions), count, latentSize: 8, latentChannels: 4 };
  const text = loadRandomEncoder();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-solvers-'));
  await train({ config: applyOverrides(presetConfig(preset), ['steps=6', 'batchSize=8', 'data.trainCount=32', 'optim.lr=0.01', 'optim.warmupSteps=0', 'optim.schedule=constant', 'emaDecay=0', ...sets]), out, prepared: { data, text } });
  text.dispose();
  return loadRun(out);
}

/** Calls of the flow network during one generate(): the batch size and time of each. */
function recordCalls(run: LoadedRun, f: () => void): Array<{ batch: number; t: number }> {
  const flow = run.models.flow;
  const apply = flow.apply;
  const calls: Array<{ batch: number; t: number }> = [];
  flow.apply = (z, t, ind, ctx) => {
    calls.push({ batch: z.shape[0], t: t.dataSync()[0] });
    return apply(z, t, ind, ctx);
  };
  try {
    f();
  } finally {
    flow.apply = apply;
  }
  return calls;
}

const meanAbs = (a: Uint8ClampedArray, b: Uint8ClampedArray) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

test('CFG indicator and classic CFG: each of the 2k evaluations of a k-step Heun or midpoint run is one guided doubled batch', async () => {
  await initBackend();
  const prompts = ['a red circle', 'two blue squares', 'a green triangle'];
  for (const preset of ['tiny', 'fm-tiny'] as const) {
    const run = await tinyRun(preset);
    try {
      for (const solver of ['euler', 'heun', 'midpoint'] as Solver[]) {
        const before = tf.memory().numTensors;
        let g: ReturnType<typeof generate> | null = null;
        const calls = recordCalls(run, () => (g = generate(run, prompts, { cfg: 3, steps: 4, solver, seed: 2 })));
        assert.equal(tf.memory().numTensors, before, `${preset} ${solver}: no tensors leak`);
        assert.equal(calls.length, nfeOf(solver, 4), `${preset} ${solver}`);
        assert.ok(calls.every((c) => c.batch === 2 * prompts.length), `${preset} ${solver}: every evaluation guided (batch ${calls.map((c) => c.batch)})`);
        assert.equal(g!.solver, solver);
        assert.equal(g!.guidance, preset === 'tiny' ? 'indicator' : 'cfg');
        if (solver === 'heun') assert.equal(calls[calls.length - 1].t, 1, 'Heun ends with an evaluation at t = 1, guided too');
      }
      // Unguided (w = 1): single batches.
      const calls = recordCalls(run, () => generate(run, prompts, { cfg: 1, steps: 3, solver: 'midpoint' }));
      assert.deepEqual(calls.map((c) => c.batch), new Array(6).fill(prompts.length));
    } finally {
      run.dispose();
    }
  }
});

test('autoguidance with Heun: the bad model runs beside the good one at every evaluation, and is swapped back out', async () => {
  await initBackend();
  const run = await tinyRun('tiny', ['guidance.mode=autoguidance', 'guidance.badStep=2']);
  try {
    const prompts = ['a red circle'];
    const first = run.models.params.vars.get([...run.models.params.vars.keys()].find((n) => n.startsWith('flow.'))!)!.dataSync().slice();
    const before = tf.memory().numTensors;
    const calls = recordCalls(run, () => generate(run, prompts, { cfg: 2, steps: 3, solver: 'heun' }));
    assert.equal(tf.memory().numTensors, before);
    assert.equal(calls.length, 2 * nfeOf('heun', 3), 'good and bad model at each of the 6 evaluations');
    const after = run.models.params.vars.get([...run.models.params.vars.keys()].find((n) => n.startsWith('flow.'))!)!.dataSync();
    assert.deepEqual(Array.from(after), Array.from(first), 'the good weights are back');
  } finally {
    run.dispose();
  }
});

test('Heun and midpoint converge to the images of a fine Euler run, and get closer than Euler at the same evaluations', async () => {
  await initBackend();
  const run = await tinyRun('tiny');
  try {
    const prompts = ['a red circle', 'two blue squares'];
    const at = (solver: Solver, steps: number) => generate(run, prompts, { cfg: 3, steps, solver, seed: 7 }).images.map((im) => im.rgb);
    const ref = at('euler', 512);
    const err = (imgs: Uint8ClampedArray[]) => imgs.reduce((s, im, i) => s + meanAbs(im, ref[i]), 0) / imgs.length;
    for (const solver of ['heun', 'midpoint'] as Solver[]) {
      const fine = err(at(solver, 64));
      assert.ok(fine < 0.5, `${solver} at 64 steps: mean |difference| ${fine} of 255 from Euler at 512`);
    }
    // At 8 evaluations, the second-order runs are nearer the fine solution than Euler (order 2 vs 1).
    const euler8 = err(at('euler', 8));
    for (const solver of ['heun', 'midpoint'] as Solver[]) {
      const e = err(at(solver, 4));
      assert.ok(e < euler8, `${solver} at 4 steps (8 evaluations): ${e.toFixed(3)} vs Euler at 8: ${euler8.toFixed(3)}`);
    }
  } finally {
    run.dispose();
  }
});
