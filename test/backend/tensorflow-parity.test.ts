// The `tfjs-node` backend (TensorFlow's C library, built by scripts/setup-tensorflow.sh from the
// tensorflow-cpu wheel) against the reference `cpu` backend: the CrossFlow models' loss and every
// gradient to fp32 tolerance, no tensor leaks, run-to-run determinism, and the trainer's resume tests
// on it. Skipped, with the reason, where no TensorFlow build is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { findTfjsNode } from '../../lib/backend/tensorflow';
import { applyOverrides } from '../../lib/config/overrides';
import type { TrainConfig } from '../../lib/config/schema';
import { generateShapes } from '../../lib/data/shapes/index';
import { makeRng } from '../../lib/data/rng';
import { buildModels } from '../../lib/models/crossflow';
import { presetConfig } from '../../lib/models/presets';
import { paramName } from '../../lib/nn/params';
import { loadRandomEncoder } from '../../lib/text/random';
import { drawStep, lossTerms } from '../../lib/train/objective';

const root = path.join(__dirname, '..', '..');
const installed = findTfjsNode('@tensorflow/tfjs-node');
const skip = installed
  ? false
  : 'tfjs-node is not installed here: `bash scripts/setup-tensorflow.sh` builds it from the tensorflow-cpu wheel where pip can get that wheel';

interface StepResult {
  terms: number[];
  grads: Map<string, Float32Array>;
}

/** One training step's loss terms and gradients (no update) of config `c` on `backend`, checking for leaks. */
async function lossAndGrads(backend: string, c: TrainConfig): Promise<StepResult> {
  await initBackend(backend);
  const L = c.data.imageSize / 4;
  const C = c.autoencoder.latentChannels;
  const count = 32;
  const rng = makeRng('tf-parity-latents');
  const data: Parameters<typeof lossTerms>[2] = {
    latents: Float32Array.from({ length: count * L * L * C }, () => rng.normal()),
    captions: generateShapes({ split: 'train', count, seed: 1 }).map((s) => s.captions),
    count,
    latentSize: L,
    latentChannels: C,
  };
  const text = loadRandomEncoder();
  const models = buildModels(c, { size: L, channels: C }, { tokens: text.maxTokens, dim: text.dim });
  const vars = models.varsOf('all');
  const draw = drawStep(c, data, 0);
  const before = tf.memory().numTensors;
  let terms: number[] = [];
  const grads = new Map<string, Float32Array>();
  tf.tidy(() => {
    let parts: ReturnType<typeof lossTerms> | null = null;
    const { value, grads: g } = tf.variableGrads(() => {
      parts = lossTerms(models, text, data, draw, 'joint');
      for (const k of [parts.flow, parts.enc, parts.kl]) tf.keep(k);
      return parts.total;
    }, vars);
    const p = parts as unknown as ReturnType<typeof lossTerms>;
    terms = [value, p.flow, p.enc, p.kl].map((t) => t.dataSync()[0]);
    tf.dispose([p.flow, p.enc, p.kl]);
    for (const v of vars) grads.set(paramName(v), g[v.name].dataSync() as Float32Array);
  });
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked by one step`);
  models.dispose();
  text.dispose();
  return { terms, grads };
}

const CASES: Array<[string, TrainConfig]> = [
  ['xs (the paper configuration: indicator CFG, velocity)', applyOverrides(presetConfig('xs'), ['batchSize=8'])],
  ['xs with the quickstart recipe (data prediction, MLP read-out, T-T contrast)', applyOverrides(presetConfig('xs'), ['batchSize=8', 'model.predict=data', 'model.globalCond=mlp', 'enc.kind=tt-contrast'])],
  ['fm-xs (the baseline: cross-attention, CFG caption dropout)', applyOverrides(presetConfig('fm-xs'), ['batchSize=8'])],
];

for (const [label, config] of CASES) {
  test(`tensorflow vs cpu: loss terms and every gradient of ${label} agree to fp32 tolerance; no leaks`, { skip }, async () => {
    const want = await lossAndGrads('cpu', config);
    const got = await lossAndGrads('tfjs-node', config);
    assert.equal(tf.getBackend(), 'tensorflow');
    want.terms.forEach((w, i) => assert.ok(Math.abs(got.terms[i] - w) <= 1e-5 * (1 + Math.abs(w)), `loss term ${i}: tensorflow ${got.terms[i]} vs cpu ${w}`));
    assert.deepEqual([...got.grads.keys()], [...want.grads.keys()]);
    let worst = 0;
    let worstName = '';
    for (const [name, w] of want.grads) {
      const g = got.grads.get(name)!;
      let scale = 0;
      let diff = 0;
      for (let i = 0; i < w.length; i++) {
        scale = Math.max(scale, Math.abs(w[i]));
        diff = Math.max(diff, Math.abs(g[i] - w[i]));
      }
      // fp32: differences from summation order, relative to the gradient's own size
      const rel = diff / (scale + 1e-8);
      if (rel > worst) [worst, worstName] = [rel, name];
    }
    assert.ok(worst <= 1e-4, `worst gradient ${worstName}: max |tensorflow - cpu| / max |cpu| = ${worst}`);
  });
}

test('tensorflow is deterministic run to run (what exact resume needs): the same ops twice give the same bits', { skip }, async () => {
  await initBackend('tfjs-node');
  const r = makeRng('tf-determinism');
  const a = tf.tensor2d(Float32Array.from({ length: 384 * 512 }, () => r.normal()), [384, 512]);
  const b = tf.tensor2d(Float32Array.from({ length: 512 * 640 }, () => r.normal()), [512, 640]);
  const x = tf.tensor4d(Float32Array.from({ length: 8 * 32 * 32 * 16 }, () => r.normal()), [8, 32, 32, 16]);
  const k = tf.tensor4d(Float32Array.from({ length: 3 * 3 * 16 * 32 }, () => r.normal()), [3, 3, 16, 32]);
  const run = () =>
    tf.tidy(() => {
      const m = tf.matMul(a, b); // large enough to be split over TensorFlow's threads
      const conv = tf.conv2d(x, k, 1, 'same');
      const gradK = tf.grad((kk) => tf.conv2d(x, kk as tf.Tensor4D, 1, 'same').square().sum())(k);
      return [m.sum(), m.mean(0), tf.softmax(m), conv, gradK].map((t) => t.dataSync() as Float32Array);
    });
  const first = run();
  const second = run();
  first.forEach((v, i) => assert.ok(Buffer.from(v.buffer).equals(Buffer.from(second[i].buffer)), `output ${i} differs between two identical runs`));
  tf.dispose([a, b, x, k]);
});

test("the trainer's resume and tensor-count tests pass on tensorflow (bitwise-equal weights after a kill and resume)", { skip }, () => {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-name-pattern=killed and resumed|aborted run|tensor count is stable', path.join(root, 'test', 'train', 'trainer.test.ts')],
    // NODE_TEST_CONTEXT would make the child report to this runner instead of running its tests
    { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_TEST_CONTEXT: undefined, CROSSFLOW_BACKEND: 'tfjs-node' } },
  );
  const out = r.stdout + r.stderr;
  assert.equal(r.status, 0, out.slice(-3000));
  assert.match(out, /# pass 3\b/);
  assert.match(out, /# fail 0\b/);
});
