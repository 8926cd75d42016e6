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
import { applyOverrides, configDifferences } from '../../lib/config/overrides';
import type { TrainConfig } from '../../lib/config/schema';
import { phasesOf, validateConfig } from '../../lib/train/config';
import { readCheckpoint, writeCheckpoint } from '../../lib/nn/checkpoint';
import { normals } from '../../lib/data/rng';
import type { TextImageData } from '../../lib/trainingData/latents';
import { Ema } from '../../lib/train/ema';
import { checkpointPath, train } from '../../lib/train/trainer';

function tinyData(count = 32): TextImageData {
  const samples = generateShapes({ split: 'train', count, seed: 3 });
  return { latents: normals('test-latents', count * 4 * 4 * 2), captions: samples.map((s) => s.captions), count, latentSize: 4, latentChannels: 2 };
}

function tinyConfig(sets: string[] = []): TrainConfig {
  return applyOverrides(presetConfig('tiny'), ['steps=6', 'batchSize=4', 'data.trainCount=32', 'log.checkpointEvery=2', 'optim.warmupSteps=2', ...sets]);
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cf-train-'));

test('EMA update is decay * shadow + (1 - decay) * param', async () => {
  await initBackend();
  const p = tf.variable(tf.tensor1d([1, 2]), true, 'ema-test-p');
  const ema = new Ema([p], 0.9);
  p.assign(tf.tensor1d([3, -2]));
  ema.update([p]);
  const s = Array.from(ema.shadow.get('ema-test-p')!.dataSync());
  assert.ok(Math.abs(s[0] - (0.9 * 1 + 0.1 * 3)) < 1e-6 && Math.abs(s[1] - (0.9 * 2 + 0.1 * -2)) < 1e-6, String(s));
  ema.swap([p]);
  assert.ok(Math.abs(p.dataSync()[0] - 1.2) < 1e-6);
  ema.swap([p]);
  assert.deepEqual(Array.from(p.dataSync()), [3, -2]);
  ema.dispose();
  p.dispose();
});

test('checkpoint write is atomic (temp file renamed) and round-trips', async () => {
  await initBackend();
  const dir = tmp();
  const file = path.join(dir, 'c.ckpt');
  const a = tf.tensor2d([[1, 2], [3, 4]]);
  writeCheckpoint(file, { step: 3 }, [['a', a]]);
  assert.ok(!fs.existsSync(`${file}.tmp`));
  const ck = readCheckpoint<{ step: number }>(file);
  assert.equal(ck.meta.step, 3);
  assert.deepEqual(Array.from(ck.tensors.get('a')!.values), [1, 2, 3, 4]);
  // a stale .tmp from a killed writer does not hide the good file
  fs.writeFileSync(`${file}.tmp`, 'partial');
  assert.equal(readCheckpoint<{ step: number }>(file).meta.step, 3);
});

test('config errors name the field and the allowed values', () => {
  assert.throws(() => applyOverrides(presetConfig('tiny'), ['ve.variant=vae']), /ve\.variant.*plain, noise, ve/);
  assert.throws(() => applyOverrides(presetConfig('tiny'), ['strategy=three']), /strategy.*joint, two-stage, two-stage-joint/);
  assert.throws(() => applyOverrides(presetConfig('tiny'), ['optim.lr=-1']), /optim\.lr/);
  assert.throws(() => applyOverrides(presetConfig('tiny'), ['nope=1']), /config key.*optim\.lr/);
  assert.throws(() => presetConfig('huge'), /--preset.*small/);
  // A retired option is no longer a key.
  assert.throws(() => applyOverrides(presetConfig('tiny'), ['model.longSkips=true']), /config key.*model\.longSkips/);
  // An autoguidance bad model at or past the last step would never be written.
  assert.throws(() => validateConfig(applyOverrides(presetConfig('tiny'), ['guidance.mode=autoguidance', 'steps=20', 'guidance.badStep=20'])), /guidance\.badStep.*below the run's 20 steps/);
  assert.doesNotThrow(() => validateConfig(applyOverrides(presetConfig('tiny'), ['guidance.mode=autoguidance', 'steps=20', 'guidance.badStep=19'])));
  const c = applyOverrides(presetConfig('tiny'), ['strategy=two-stage-joint', 'stage1Steps=4', 'steps=10', 'finetuneFraction=0.3']);
  assert.deepEqual(phasesOf(c).map((p) => [p.name, p.start, p.end]), [['ve', 0, 4], ['flow', 4, 11], ['joint', 11, 14]]);
});

async function weightsOf(dir: string): Promise<Map<string, Float32Array>> {
  const ck = readCheckpoint<{ step: number }>(checkpointPath(dir));
  return new Map([...ck.tensors].map(([k, v]) => [k, v.values]));
}

test('a killed and resumed run ends with exactly the weights of an uninterrupted one; no tensor leaks', async () => {
  await initBackend();
  const data = tinyData();
  const text = loadRandomEncoder();
  const cfg = tinyConfig();
  const full = tmp();
  const counts: number[] = [];
  const r = await train({ config: cfg, out: full, prepared: { data, text }, onProgress: () => counts.push(tf.memory().numTensors) });
  assert.equal(r.steps, 6);
  assert.ok(counts.slice(1).every((n) => n === counts[1]), `tensors per step after warm-up: ${counts}`);
  // Killed after step 3 (last checkpoint at step 2), then resumed.
  const killed = tmp();
  await train({ config: cfg, out: killed, prepared: { data, text }, stopAfter: 3 });
  assert.equal(readCheckpoint<{ step: number }>(checkpointPath(killed)).meta.step, 2);
  const resumed = await train({ config: cfg, out: killed, prepared: { data, text } });
  assert.equal(resumed.resumedFrom, 2);
  const a = await weightsOf(full);
  const b = await weightsOf(killed);
  assert.deepEqual([...a.keys()], [...b.keys()]);
  let maxDiff = 0;
  for (const [k, v] of a) {
    const w = b.get(k)!;
    for (let i = 0; i < v.length; i++) maxDiff = Math.max(maxDiff, Math.abs(v[i] - w[i]));
  }
  assert.equal(maxDiff, 0, 'bitwise identical weights, EMA and optimiser state');
  // The CSV holds each step once, with the same losses.
  const rows = (d: string) => fs.readFileSync(path.join(d, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').slice(0, 9).join(','));
  assert.deepEqual(rows(killed), rows(full));
  assert.equal(rows(full).length, 7);
  text.dispose();
});

test('resuming with another config names each differing field with both values and leaves the run untouched', async () => {
  await initBackend();
  const data = tinyData();
  const text = loadRandomEncoder();
  const dir = tmp();
  await train({ config: tinyConfig(), out: dir, prepared: { data, text } });
  const before = fs.readFileSync(checkpointPath(dir));
  const configBefore = fs.readFileSync(path.join(dir, 'config.json'), 'utf8');
  await assert.rejects(
    train({ config: tinyConfig(['model.globalCond=linear', 'optim.lr=0.01']), out: dir, prepared: { data, text } }),
    (e: Error) => /optim\.lr \(run: 0\.002, now: 0\.01\)/.test(e.message) && /model\.globalCond \(run: "none", now: "linear"\)/.test(e.message) && /another directory/.test(e.message),
  );
  assert.ok(before.equals(fs.readFileSync(checkpointPath(dir))), 'checkpoint untouched');
  assert.equal(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'), configBefore, 'config untouched');
  // Only steps may grow: more steps resume.
  const more = await train({ config: tinyConfig(['steps=8']), out: dir, prepared: { data, text } });
  assert.equal(more.resumedFrom, 6);
  assert.deepEqual(configDifferences({ a: { b: 1, c: [1, 2] }, d: 'x' }, { a: { b: 2, c: [1, 2] }, e: 1 }), ['a.b', 'd', 'e']);
  text.dispose();
});

test('an aborted run (signal or first SIGINT) checkpoints its current step and resumes to the uninterrupted weights', async () => {
  await initBackend();
  const data = tinyData();
  const text = loadRandomEncoder();
  const cfg = tinyConfig(); // 6 steps, checkpoints every 2
  const full = tmp();
  await train({ config: cfg, out: full, prepared: { data, text } });
  // Abort through a signal after step 3 (not a checkpoint step: the stop writes one).
  const aborted = tmp();
  const controller = new AbortController();
  const r = await train({ config: cfg, out: aborted, prepared: { data, text }, signal: controller.signal, onProgress: (p) => p.step === 3 && controller.abort() });
  assert.equal(r.steps, 3);
  assert.ok(r.stoppedEarly);
  assert.equal(readCheckpoint<{ step: number }>(checkpointPath(aborted)).meta.step, 3);
  assert.ok(!fs.existsSync(path.join(aborted, 'summary.json')));
  const resumed = await train({ config: cfg, out: aborted, prepared: { data, text } });
  assert.equal(resumed.resumedFrom, 3);
  assert.equal(resumed.steps, 6);
  const a = await weightsOf(full);
  const b = await weightsOf(aborted);
  for (const [k, v] of a) assert.deepEqual(Array.from(b.get(k)!), Array.from(v), k);
  // The first SIGINT does the same when asked to; the handler is removed afterwards.
  const listeners = process.listenerCount('SIGINT');
  const interrupted = tmp();
  const r2 = await train({ config: cfg, out: interrupted, prepared: { data, text }, stopOnInterrupt: true, onProgress: (p) => p.step === 4 && process.emit('SIGINT') });
  assert.equal(r2.steps, 4);
  assert.equal(readCheckpoint<{ step: number }>(checkpointPath(interrupted)).meta.step, 4);
  assert.equal(process.listenerCount('SIGINT'), listeners);
  text.dispose();
});

test('training lets the event loop run between steps (a blocked tslab kernel loses its output)', async () => {
  await initBackend();
  const data = tinyData();
  const text = loadRandomEncoder();
  let step = 0;
  const immediateRanAt: number[] = [];
  // Re-armed each time it runs: counts how many times the event loop got a turn during training.
  const tick = () => {
    immediateRanAt.push(step);
    if (step < 6) setImmediate(tick);
  };
  setImmediate(tick);
  await train({ config: tinyConfig(), out: tmp(), prepared: { data, text }, onProgress: (p) => (step = p.step) });
  // A loop without awaits would let the immediate run once, after the last step.
  assert.ok(immediateRanAt.filter((s) => s >= 1 && s < 6).length >= 4, `event-loop turns at steps ${immediateRanAt}`);
  text.dispose();
});

test('tensor count is stable across steps for every family and strategy', async () => {
  await initBackend();
  const data = tinyData();
  const text = loadRandomEncoder();
  const base = applyOverrides(presetConfig('fm-tiny'), ['steps=5', 'batchSize=4', 'data.trainCount=32']);
  const variants: Array<[string, TrainConfig]> = [
    ['2-stage + joint, T-T recon', tinyConfig(['strategy=two-stage-joint', 'stage1Steps=2', 'enc.kind=tt-recon'])],
    ['T-T contrast, autoguidance', tinyConfig(['enc.kind=tt-contrast', 'guidance.mode=autoguidance'])],
    ['label indicator, plain encoder', tinyConfig(['model.indicatorForm=label', 've.variant=plain', 'enc.kind=none'])],
    ['baseline', base],
    ['mlp read-out, data prediction', tinyConfig(['model.globalCond=mlp', 'model.predict=data'])],
    ['baseline, data prediction', applyOverrides(base, ['model.predict=data'])],
  ];
  for (const [name, cfg] of variants) {
    const counts: number[] = [];
    await train({ config: cfg, out: tmp(), prepared: { data, text }, onProgress: (p) => { if (p.phase !== 've' && p.step > (cfg.stage1Steps || 0) + 1) counts.push(tf.memory().numTensors); } });
    assert.ok(counts.length >= 2 && counts.every((n) => n === counts[0]), `${name}: tensors per step ${counts}`);
  }
  text.dispose();
});

test('NaN stops the run with a clear message and keeps the last good checkpoint', async () => {
  await initBackend();
  const data = tinyData();
  // A latent with a NaN: the first batch that draws it produces a non-finite loss.
  data.latents.fill(Number.NaN, 0, data.latents.length);
  const text = loadRandomEncoder();
  const dir = tmp();
  await assert.rejects(train({ config: tinyConfig(), out: dir, prepared: { data, text } }), /training stopped at step 1.*non-finite.*last good checkpoint/);
  assert.ok(!fs.existsSync(checkpointPath(dir)));
  text.dispose();
});
