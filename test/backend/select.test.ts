// Backend selection: the default order without a model, the choice by measured step time with one
// (measured once, then read from the timings file), the override, clear errors; and the CLI's --json convention.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { backendFingerprint, BackendWorkload, forgetChoice, initBackend } from '../../lib/backend/select';
import { findTfjsNode } from '../../lib/backend/tensorflow';
import { readTimings, recordTimings } from '../../lib/backend/timings';

const root = path.join(__dirname, '..', '..');
const cli = path.join(root, 'bin', 'crossflow.js');
const tensorflowBuild = findTfjsNode('@tensorflow/tfjs-node');
const needsTwo = tensorflowBuild ? false : 'needs a second fast backend: tfjs-node is not installed here (bash scripts/setup-tensorflow.sh)';

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' });
}

const tmpFile = (name: string) => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cf-select-')), name);

test('crossflow backend --json without a model takes native by the default order and prints one JSON object on the last line', () => {
  const out = execFileSync(process.execPath, [cli, 'backend', '--json'], { cwd: root, encoding: 'utf8', env: { ...process.env, CROSSFLOW_BACKEND: '' } });
  const lines = out.trim().split('\n');
  const report = JSON.parse(lines[lines.length - 1]);
  assert.equal(report.backend, 'native');
  assert.equal(report.tfjsBackend, 'native');
  assert.equal(report.chosenBy, tensorflowBuild ? 'default-order' : 'only-candidate');
  assert.equal(report.timings, null);
  assert.equal(report.versions['@tensorflow/tfjs'], '4.22.0');
  assert.ok(report.blasThreads >= 1);
  assert.match(report.blasLibrary, /blas/);
  // node_modules/@tensorflow/tfjs-node is an npm alias of plain tfjs (for danfojs): never counted as installed
  if (tensorflowBuild) assert.match(report.installed['tfjs-node'], /built by scripts\/setup-tensorflow\.sh on tensorflow-cpu==/);
  else assert.equal(report.installed['tfjs-node'], undefined);
  assert.doesNotMatch(JSON.stringify(report.installed), /node_modules\/@tensorflow\/tfjs-node"?$/);
});

test('CROSSFLOW_BACKEND forces a backend, and an unknown one names the allowed values', () => {
  const cpu = run(['backend', '--json', '--preset', 'tiny'], { CROSSFLOW_BACKEND: 'cpu' });
  assert.equal(cpu.status, 0, cpu.stderr);
  const report = JSON.parse(cpu.stdout.trim().split('\n').pop()!);
  assert.equal(report.backend, 'cpu');
  assert.equal(report.chosenBy, 'request');
  assert.equal(report.timings, null, 'a forced backend measures nothing');
  const bad = run(['backend'], { CROSSFLOW_BACKEND: 'gpu' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /CROSSFLOW_BACKEND='gpu' is not a backend; allowed values: tfjs-node-gpu, tfjs-node, native, wasm, cpu/);
  assert.doesNotMatch(bad.stderr, /at .*\.ts:\d+/); // a message, not a stack trace
});

test('bad command arguments are rejected with the allowed values', () => {
  const r = run(['bench', 'resnet']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /invalid workload: "resnet"; allowed: ref-dit, presets, sampling, sgemm/);
  const b = run(['bench', 'presets', '--presets', 'tiny,huge']);
  assert.equal(b.status, 1);
  assert.match(b.stderr, /--presets.*"huge".*tiny, xs, small/);
});

/** A workload whose step costs `msOn[backend]` of busy waiting (so the ranking is known), counting prepare() calls. */
function fakeWorkload(key: string, msOn: Record<string, number>): BackendWorkload & { prepared: string[] } {
  const prepared: string[] = [];
  return {
    key,
    label: `fake ${key}`,
    prepared,
    prepare() {
      prepared.push(tf.getBackend());
      const x = tf.ones([4]); // a tensor per session, disposed by dispose()
      return {
        step() {
          const until = performance.now() + msOn[tf.getBackend()];
          while (performance.now() < until);
          tf.tidy(() => x.sum().dataSync());
        },
        dispose: () => x.dispose(),
      };
    },
  };
}

test('with a model at hand the faster backend is chosen by measurement, then read from the timings file', { skip: needsTwo }, async () => {
  const saved = { file: process.env.CROSSFLOW_TIMINGS_FILE, forced: process.env.CROSSFLOW_BACKEND };
  process.env.CROSSFLOW_TIMINGS_FILE = tmpFile('timings.json');
  delete process.env.CROSSFLOW_BACKEND;
  try {
    await initBackend('native'); // start both once, so the tensor count below is not disturbed by start-up
    await initBackend('tfjs-node');
    const before = tf.memory().numTensors;
    // native 2 ms a step, tensorflow 30 ms: native wins, measured now, both times saved
    forgetChoice();
    const w = fakeWorkload('fake-a', { native: 2, tensorflow: 30 });
    const first = await initBackend({ workload: w, warmup: 1, rounds: 3 });
    assert.equal(first.backend, 'native');
    assert.equal(tf.getBackend(), 'native');
    assert.equal(first.chosenBy, 'measurement');
    assert.ok(first.timings?.measuredNow);
    assert.deepEqual(Object.keys(first.timings!.ms).sort(), ['native', 'tfjs-node']);
    assert.ok(first.timings!.ms.native < first.timings!.ms['tfjs-node']);
    assert.match(first.reason, /fastest measured for the fake fake-a: native .* ms, tfjs-node .* ms/);
    assert.deepEqual(w.prepared.sort(), ['native', 'tensorflow']);
    assert.equal(tf.memory().numTensors, before, 'measuring leaves no tensors');
    assert.deepEqual(readTimings().map((e) => [e.backend, e.workload, e.source]).sort(), [['native', 'fake-a', 'probe'], ['tfjs-node', 'fake-a', 'probe']]);
    // the next process (here: a new choice) reads the file and measures nothing
    forgetChoice();
    const again = fakeWorkload('fake-a', { native: 2, tensorflow: 30 });
    const second = await initBackend({ workload: again });
    assert.equal(second.backend, 'native');
    assert.equal(second.timings?.measuredNow, false);
    assert.deepEqual(again.prepared, []);
    // a file that says tensorflow is faster for a model makes it the choice, unmeasured
    const at = new Date().toISOString();
    recordTimings([
      { backend: 'native', workload: 'fake-b', label: 'fake fake-b', fingerprint: backendFingerprint('native'), ms: 50, steps: 5, source: 'bench', measured_at: at },
      { backend: 'tfjs-node', workload: 'fake-b', label: 'fake fake-b', fingerprint: backendFingerprint('tfjs-node'), ms: 20, steps: 5, source: 'bench', measured_at: at },
    ]);
    forgetChoice();
    const b = fakeWorkload('fake-b', { native: 2, tensorflow: 30 });
    const third = await initBackend({ workload: b });
    assert.equal(third.backend, 'tfjs-node');
    assert.equal(tf.getBackend(), 'tensorflow');
    assert.deepEqual(b.prepared, []);
    // --remeasure measures again (and the busy waits say native)
    forgetChoice();
    const fourth = await initBackend({ workload: b, remeasure: true, warmup: 1, rounds: 3 });
    assert.equal(fourth.backend, 'native');
    assert.ok(fourth.timings?.measuredNow);
    // a fingerprint from another machine or build does not count
    recordTimings([{ backend: 'native', workload: 'fake-c', label: 'c', fingerprint: 'native|another machine', ms: 1, steps: 5, source: 'bench', measured_at: at }]);
    forgetChoice();
    const c = fakeWorkload('fake-c', { native: 30, tensorflow: 2 });
    const fifth = await initBackend({ workload: c, warmup: 1, rounds: 3 });
    assert.equal(fifth.backend, 'tfjs-node');
    assert.ok(fifth.timings?.measuredNow);
    // a backend that cannot run the model (here: a step that throws on tensorflow) is left out, with the reason
    for (const failAt of [0, 2]) {
      forgetChoice();
      let calls = 0;
      const broken: BackendWorkload = {
        key: `fake-d${failAt}`,
        label: 'fake broken',
        prepare: () => ({
          step() {
            if (tf.getBackend() === 'tensorflow' && calls++ >= failAt) throw new Error('no kernel Foo on tensorflow');
          },
          dispose() {},
        }),
      };
      const sixth = await initBackend({ workload: broken, warmup: 1, rounds: 3 });
      assert.equal(sixth.backend, 'native');
      assert.equal(sixth.chosenBy, 'only-candidate');
      assert.equal(sixth.skipped['tfjs-node'], 'no kernel Foo on tensorflow');
      assert.match(sixth.reason, /the only backend that ran the fake broken \(tfjs-node: no kernel Foo on tensorflow\)/);
    }
    assert.equal(tf.memory().numTensors, before);
  } finally {
    forgetChoice();
    if (saved.file === undefined) delete process.env.CROSSFLOW_TIMINGS_FILE;
    else process.env.CROSSFLOW_TIMINGS_FILE = saved.file;
    if (saved.forced !== undefined) process.env.CROSSFLOW_BACKEND = saved.forced;
    await initBackend('native');
  }
});
