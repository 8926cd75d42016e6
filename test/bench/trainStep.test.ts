// The training-step workload the backend selector and `crossflow bench presets` time: its cache key
// follows what a step costs (not seeds or step counts), a step leaks no tensors, and the bench
// command writes a row per preset and backend to the timings file the selector reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { findTfjsNode } from '../../lib/backend/tensorflow';
import { readTimings } from '../../lib/backend/timings';
import { prepareTrainStep, trainStepKey } from '../../lib/bench/trainStep';
import { applyOverrides } from '../../lib/config/overrides';
import { presetConfig } from '../../lib/models/presets';

const root = path.join(__dirname, '..', '..');

test('the step key changes with what a step costs, not with seeds, step counts or learning rates', () => {
  const base = presetConfig('small');
  const key = trainStepKey(base);
  assert.match(key, /^train-step:small:[0-9a-f]{12}$/);
  assert.equal(trainStepKey(applyOverrides(presetConfig('small'), ['seed=7', 'steps=10', 'optim.lr=0.01', 'log.checkpointEvery=5'])), key);
  for (const set of ['model.width=192', 'batchSize=32', 'enc.kind=tt-contrast', 'model.predict=data', 'text.encoder=lm']) {
    assert.notEqual(trainStepKey(applyOverrides(presetConfig('small'), [set])), key, set);
  }
});

test('a prepared training step runs the trainer step without leaking tensors, and dispose frees everything', async () => {
  await initBackend('native');
  const before = tf.memory().numTensors;
  const session = await prepareTrainStep(applyOverrides(presetConfig('tiny'), ['batchSize=4']));
  session.step();
  const afterOne = tf.memory().numTensors;
  session.step();
  session.step();
  assert.equal(tf.memory().numTensors, afterOne, 'tensors per step after the first');
  session.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('crossflow bench presets times each preset on every installed backend and saves the times for the selector', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cf-bench-')), 'timings.json');
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'crossflow.js'), 'bench', 'presets', '--presets', 'tiny,fm-tiny', '--warmup', '1', '--steps', '2', '--json'], {
    cwd: root, encoding: 'utf8', env: { ...process.env, CROSSFLOW_BACKEND: '', CROSSFLOW_TIMINGS_FILE: file },
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  const backends = findTfjsNode('@tensorflow/tfjs-node') ? ['tfjs-node', 'native'] : ['native'];
  assert.deepEqual(out.backends, backends);
  assert.deepEqual(out.rows.map((row: { preset: string }) => row.preset), ['tiny', 'fm-tiny']);
  for (const row of out.rows) {
    assert.deepEqual(Object.keys(row.ms).sort(), [...backends].sort(), row.preset);
    assert.ok(Object.values(row.ms as Record<string, number>).every((ms) => ms > 0));
    assert.equal(row.fastest, Object.entries(row.ms as Record<string, number>).sort((a, b) => a[1] - b[1])[0][0]);
  }
  const saved = readTimings(file);
  assert.equal(saved.length, 2 * backends.length);
  assert.ok(saved.every((e) => e.source === 'bench' && e.steps === 2));
});
