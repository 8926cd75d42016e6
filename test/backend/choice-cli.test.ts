// The backend choice seen from the command line: `crossflow backend --preset` measures the model and
// explains the choice, nothing is measured without a TensorFlow build, and `crossflow train` records its
// backend so that a resumed run stays on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findTfjsNode } from '../../lib/backend/tensorflow';
import { readTimings } from '../../lib/backend/timings';

const root = path.join(__dirname, '..', '..');
const cli = path.join(root, 'bin', 'crossflow.js');
const tensorflowBuild = findTfjsNode('@tensorflow/tfjs-node');

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' });
}

const tmpFile = (name: string) => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cf-choice-')), name);

test('crossflow backend --preset tiny measures the tiny training step on every installed backend and explains the choice', () => {
  const file = tmpFile('timings.json');
  const r = run(['backend', '--preset', 'tiny', '--json'], { CROSSFLOW_BACKEND: '', CROSSFLOW_TIMINGS_FILE: file });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split('\n').pop()!);
  const candidates = tensorflowBuild ? ['native', 'tfjs-node'] : ['native'];
  if (tensorflowBuild) {
    assert.equal(report.chosenBy, 'measurement');
    assert.deepEqual(Object.keys(report.timings.ms).sort(), candidates);
    assert.equal(report.backend, Object.entries(report.timings.ms as Record<string, number>).sort((a, b) => a[1] - b[1])[0][0]);
    assert.match(report.timings.workload, /^train-step:tiny:[0-9a-f]{12}$/);
    assert.deepEqual(readTimings(file).map((e) => e.backend).sort(), candidates);
  } else {
    assert.equal(report.chosenBy, 'only-candidate');
    assert.equal(report.backend, 'native');
  }
  const human = run(['backend', '--preset', 'tiny'], { CROSSFLOW_BACKEND: '', CROSSFLOW_TIMINGS_FILE: file });
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stdout, /^why \((measurement|only-candidate)\): /m);
  if (tensorflowBuild) assert.match(human.stdout, /measured tiny training step \(batch 8\) \(median ms per step\):\n {2}(native|tfjs-node) /);
});

test('without a TensorFlow build (CROSSFLOW_NO_TENSORFLOW=1 hides one) a model is not measured: native is the only candidate', () => {
  const file = tmpFile('timings.json');
  const r = run(['backend', '--preset', 'tiny', '--json'], { CROSSFLOW_BACKEND: '', CROSSFLOW_NO_TENSORFLOW: '1', CROSSFLOW_TIMINGS_FILE: file });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(report.backend, 'native');
  assert.equal(report.chosenBy, 'only-candidate');
  assert.equal(report.timings, null);
  assert.deepEqual(report.installed, {});
  assert.equal(report.skipped['tfjs-node'], 'not installed');
  assert.match(report.reason, /no TensorFlow build installed \(bash scripts\/setup-tensorflow\.sh makes one\)/);
  assert.ok(!fs.existsSync(file), 'nothing measured, nothing written');
  const forced = run(['backend'], { CROSSFLOW_BACKEND: 'tfjs-node', CROSSFLOW_NO_TENSORFLOW: '1' });
  assert.equal(forced.status, 1);
  assert.match(forced.stderr, /backend 'tfjs-node' \(from CROSSFLOW_BACKEND\) could not start: not installed/);
});

test('crossflow train records its backend, and resuming the run stays on it (exact resume needs the same backend)', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-train-backend-'));
  const env = { CROSSFLOW_BACKEND: '', CROSSFLOW_TIMINGS_FILE: tmpFile('timings.json') };
  const args = ['train', '--preset', 'tiny', '--out', out, '--set', 'batchSize=4', 'log.checkpointEvery=2', '--json'];
  const first = run([...args, '--steps', '2'], env);
  assert.equal(first.status, 0, first.stderr);
  const recorded = JSON.parse(fs.readFileSync(path.join(out, 'backend.json'), 'utf8'));
  assert.equal(recorded.backend, JSON.parse(first.stdout.trim().split('\n').pop()!).backend);
  assert.equal(recorded.chosenBy, tensorflowBuild ? 'measurement' : 'only-candidate');
  // pretend the run trained on cpu: the resumed run takes cpu, not what the measurement says
  fs.writeFileSync(path.join(out, 'backend.json'), JSON.stringify({ backend: 'cpu' }));
  const resumed = run([...args, '--steps', '3'], env);
  assert.equal(resumed.status, 0, resumed.stderr);
  const report = JSON.parse(resumed.stdout.trim().split('\n').pop()!);
  assert.equal(report.backend, 'cpu');
  assert.equal(report.resumedFrom, 2);
  assert.match(resumed.stderr, /backend cpu \(the backend this run trained on/);
});

test('crossflow backend lists only the step times the selector would read now: this build, this load', async () => {
  const { backendFingerprint } = await import('../../lib/backend/select');
  const now = backendFingerprint('native');
  // The same build measured on a quiet and on a busy machine: the child reads the load itself, so exactly one of
  // the two is this load's; a third entry is from an older build.
  const other = now.endsWith('|busy') ? now.replace(/\|busy$/, '|quiet') : now.replace(/\|quiet$/, '|busy');
  const entry = (fingerprint: string, ms: number) => ({ backend: 'native', workload: 'w', label: 'test step', fingerprint, ms, steps: 5, source: 'bench', measured_at: '2026-12-01T00:00:00.000Z' });
  const file = tmpFile('timings.json');
  fs.writeFileSync(file, JSON.stringify({ entries: [entry(now, 11.1), entry(other, 22.2), entry('native|old-build', 33.3)] }));
  const r = run(['backend'], { CROSSFLOW_BACKEND: 'native', CROSSFLOW_TIMINGS_FILE: file });
  assert.equal(r.status, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.includes('test step:'));
  assert.ok(line, r.stdout);
  const shown = [11.1, 22.2, 33.3].filter((ms) => line.includes(`native ${ms.toFixed(1)} ms`));
  assert.equal(shown.length, 1, `one of this build's two loads is listed: ${line}`);
  assert.notEqual(shown[0], 33.3, 'the older build is not listed');
  assert.match(r.stdout, /2 other entries on file are from other builds or the other load/);
});
