import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { generateShapes, sampleForCaption } from '../../lib/data/shapes/index';
import { presetConfig } from '../../lib/models/presets';
import { loadRandomEncoder } from '../../lib/text/random';
import { applyOverrides } from '../../lib/config/overrides';
import { normals } from '../../lib/data/rng';
import { generate, generateFrom, generateYielding, imageLatents, interpolate, loadRun, sourceLatents } from '../../lib/sampling/generate';
import { CheckpointMeta, train } from '../../lib/train/trainer';
import { readCheckpoint, writeCheckpoint } from '../../lib/nn/checkpoint';

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
  // Interpolation: the sampler starts from the two prompts' own latents at the ends and the straight line between
  // them inside. The flow's first call (t = 0) sees exactly the starting latents; record them.
  const flow = run.models.flow;
  const apply = flow.apply;
  let start: { shape: number[]; values: Float32Array } | null = null;
  flow.apply = (z, t, ind, ctx) => {
    if (!start) start = { shape: z.shape, values: z.dataSync() as Float32Array };
    return apply(z, t, ind, ctx);
  };
  const n = 2;
  const inter = interpolate(run, prompts[0], prompts[1], n, { seed: 4, guidance: 'none' });
  flow.apply = apply;
  assert.equal(inter.images.length, n + 2);
  const own = sourceLatents(run, prompts, 4); // (2, L, L, C): the prompts' sampled Text VE latents
  const ownValues = own.dataSync();
  const [za, zb] = [ownValues.slice(0, ownValues.length / 2), ownValues.slice(ownValues.length / 2)];
  own.dispose();
  const got = start as { shape: number[]; values: Float32Array } | null;
  assert.ok(got, 'the flow was called');
  assert.deepEqual(got.shape, [n + 2, ...own.shape.slice(1)]);
  const row = (i: number) => got.values.subarray(i * za.length, (i + 1) * za.length);
  const maxDiff = (x: ArrayLike<number>, y: ArrayLike<number>) => Array.from(x).reduce((m, v, k) => Math.max(m, Math.abs(v - y[k])), 0);
  assert.ok(maxDiff(za, zb) > 0.1, 'the two prompts have different latents, so the checks below can tell them apart');
  assert.deepEqual(Array.from(row(0)), Array.from(za), 'first endpoint: the first prompt\'s own latent');
  assert.ok(maxDiff(row(n + 1), zb) < 1e-5, `last endpoint: the second prompt's own latent (max difference ${maxDiff(row(n + 1), zb)})`);
  for (let i = 1; i <= n; i++) {
    const line = Array.from(za, (v, k) => v + (zb[k] - v) * (i / (n + 1)));
    assert.ok(maxDiff(row(i), line) < 1e-5, `row ${i} lies at ${i}/${n + 1} of the way`);
  }
  run.dispose();
});

test('generateYielding draws the same images as generate and lets the event loop run between batches', async () => {
  await initBackend();
  const run = await loadRun(await tinyRun([]));
  const prompts = ['a red circle', 'two blue squares', 'a green triangle', 'one yellow circle', 'a purple square'];
  const before = tf.memory().numTensors;
  const sync = generate(run, prompts, { seed: 2 }, 2); // batches of 2, 2 and 1
  let turns = 0;
  let waiting = true;
  const tick = (): void => {
    turns += 1;
    if (waiting) setImmediate(tick);
  };
  setImmediate(tick);
  const yielding = await generateYielding(run, prompts, { seed: 2 }, 2);
  waiting = false;
  // The event loop ran between the three batches (the timer that refreshes a run-directory lock needs it).
  assert.ok(turns >= 2, `${turns} turns of the event loop`);
  assert.equal(yielding.images.length, prompts.length);
  yielding.images.forEach((im, i) => assert.ok(same(im.rgb, sync.images[i].rgb), `image ${i}`));
  assert.equal(tf.memory().numTensors, before);
  await assert.rejects(generateYielding(run, [], {}), /prompts/);
  run.dispose();
});

test('a checkpoint that does not fit its config is named, and loadRun frees what it built', async () => {
  await initBackend();
  const dir = await tinyRun([]);
  const file = path.join(dir, 'checkpoint.ckpt');
  const ck = readCheckpoint<CheckpointMeta>(file);
  const [dropped] = [...ck.tensors.keys()].filter((k) => k.startsWith('ema/'));
  const kept = [...ck.tensors].filter(([k]) => k !== dropped).map(([k, v]) => [k, tf.tensor(v.values, v.shape)] as [string, tf.Tensor]);
  writeCheckpoint(file, ck.meta, kept);
  tf.dispose(kept.map(([, t]) => t));
  const before = tf.memory().numTensors;
  await assert.rejects(loadRun(dir), (e: Error) => e.message.includes(`has no tensor '${dropped}'`));
  assert.equal(tf.memory().numTensors, before, 'the models, text encoder and autoencoder it built are disposed');
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

test('guidance interval: guiding nowhere is the unguided sampler, part of the way is neither; bad intervals are named', async () => {
  await initBackend();
  const run = await loadRun(await tinyRun([]));
  const prompts = ['a red circle', 'two blue squares'];
  // 4 Euler steps evaluate the field at t = 0, 0.25, 0.5, 0.75: [0.9, 1] contains none of them.
  const opts = { seed: 1, steps: 4 };
  const w1 = generate(run, prompts, { ...opts, cfg: 1 }).images[0].rgb;
  const w3 = generate(run, prompts, { ...opts, cfg: 3 }).images[0].rgb;
  assert.ok(same(generate(run, prompts, { ...opts, cfg: 3, guidanceInterval: [0.9, 1] }).images[0].rgb, w1));
  assert.ok(same(generate(run, prompts, { ...opts, cfg: 3, guidanceInterval: [0, 1] }).images[0].rgb, w3));
  const half = generate(run, prompts, { ...opts, cfg: 3, guidanceInterval: [0, 0.5] }).images[0].rgb;
  assert.ok(!same(half, w1) && !same(half, w3));
  for (const bad of [[0.5, 0.5], [-0.1, 1], [0, 1.5]] as Array<[number, number]>)
    assert.throws(() => generate(run, prompts, { cfg: 3, guidanceInterval: bad }), /guidanceInterval.*lo < hi within \[0, 1\]/);
  run.dispose();
});

test('start near t = 1 from real images gives back their autoencoder reconstructions; no tensors leak', async () => {
  await initBackend();
  const run = await loadRun(await tinyRun([]));
  const prompts = ['a red circle', 'a blue square'];
  const images = prompts.map((p, index) => sampleForCaption(p, { seed: 3, index }));
  const before = tf.memory().numTensors;
  // One Euler step from t = 0.999: z = 0.001 z0 + 0.999 z1 + 0.001 v, within rounding of z1.
  const g = generate(run, prompts, { seed: 2, steps: 1, cfg: 1, start: { t: 0.999, images } });
  const z1 = imageLatents(run, images);
  const recon = generateFrom(run, z1, prompts, { steps: 1, cfg: 1, start: { t: 0.999999, images } }); // 1e-6 of a step: decode(z1)
  z1.dispose();
  assert.equal(tf.memory().numTensors, before);
  for (let i = 0; i < 2; i++) {
    const a = g.images[i].rgb, b = recon.images[i].rgb;
    const maxDiff = a.reduce((m, v, k) => Math.max(m, Math.abs(v - b[k])), 0);
    assert.ok(maxDiff <= 8, `image ${i}: max pixel difference ${maxDiff}`);
  }
  // From t = 0 the same call is the ordinary sampler, which draws something else entirely.
  const fromSource = generate(run, prompts, { seed: 2, steps: 1, cfg: 1 });
  const far = fromSource.images[0].rgb.reduce((m, v, k) => Math.max(m, Math.abs(v - recon.images[0].rgb[k])), 0);
  assert.ok(far > 16, `max pixel difference from the reconstruction ${far}`); // so the tolerance above is discriminating
  assert.throws(() => generate(run, prompts, { start: { t: 0.5, images: images.slice(0, 1) } }), /start\.images.*one per prompt/);
  assert.throws(() => generate(run, prompts, { start: { t: 1, images } }), /start\.t.*\[0, 1\)/);
  run.dispose();
});

test('crossflow sample-check names --guidance-interval and --start-t with their allowed values', () => {
  const bin = path.join(__dirname, '..', '..', 'bin', 'crossflow.js');
  const cases: Array<[string[], RegExp]> = [
    [['--guidance-interval', '0.5', '0.2'], /--guidance-interval.*0 <= lo < hi <= 1/],
    [['--guidance-interval', '0.5'], /--guidance-interval.*two numbers/],
    [['--start-t', '1'], /--start-t.*\[0, 1\)/],
  ];
  for (const [args, message] of cases) {
    const r = spawnSync(process.execPath, [bin, 'sample-check', '--run', 'no-such-run', ...args], { encoding: 'utf8' });
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, message);
  }
});
