// scripts/setup-tensorflow.sh: optional and never fatal (one line, exit 0, `native` runs), idempotent
// (a stamp), remembers a wheel it cannot get, and leaves a working build alone when a rebuild fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');
const stamp = path.join(root, '.cache', 'tensorflow', 'cpu', 'stamp');
const setup = (args: string[], env: Record<string, string> = {}) =>
  spawnSync('bash', [path.join(root, 'scripts', 'setup-tensorflow.sh'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, CROSSFLOW_GPU: '', CROSSFLOW_NO_TENSORFLOW: '', ...env } });
const lines = (s: string) => s.trim().split('\n').filter(Boolean);

test('an unknown argument is an error naming the allowed one', () => {
  const r = setup(['--cuda']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown argument '--cuda' \(allowed: --gpu\)/);
});

test('CROSSFLOW_NO_TENSORFLOW=1 skips the stage in one line', () => {
  const r = setup([], { CROSSFLOW_NO_TENSORFLOW: '1' });
  assert.equal(r.status, 0);
  assert.deepEqual(lines(r.stderr), ['[setup] tensorflow backend: skipped (CROSSFLOW_NO_TENSORFLOW is set); the native backend runs']);
});

test('a wheel pip cannot get: one line, exit 0, remembered for the next run, and an installed build is left alone', () => {
  const before = fs.existsSync(stamp) ? fs.readFileSync(stamp, 'utf8') : null;
  const note = path.join(root, '.cache', 'tensorflow', 'cpu-0.0.1.unavailable');
  fs.rmSync(note, { force: true });
  try {
    const r = setup([], { CROSSFLOW_TF_VERSION: '0.0.1' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /^\[setup\] tensorflow backend: not installed \((pip cannot get tensorflow-cpu==0\.0\.1|no Python with pip).*\); the native backend runs/);
    const again = setup([], { CROSSFLOW_TF_VERSION: '0.0.1' });
    assert.equal(again.status, 0);
    assert.equal(lines(again.stderr).length, 1, again.stderr);
    assert.match(again.stderr, /not installed .*\(rm \.cache\/tensorflow\/cpu-0\.0\.1\.unavailable to try again\)/);
    assert.equal(fs.existsSync(stamp) ? fs.readFileSync(stamp, 'utf8') : null, before, 'the installed build is untouched');
  } finally {
    fs.rmSync(note, { force: true });
  }
});

test('with the build installed, a second run reads its stamp and builds nothing', { skip: fs.existsSync(stamp) ? false : 'no tfjs-node build here (the tensorflow-cpu wheel could not be had)' }, () => {
  const r = setup([]);
  assert.equal(r.status, 0);
  assert.match(r.stderr, /^\[setup\] tensorflow backend: present \(@tensorflow\/tfjs-node 4\.22\.0 on tensorflow-cpu 2\.21\.0, \.cache\/tensorflow\/cpu\)$/m);
  assert.doesNotMatch(r.stderr, /building/);
  const build = JSON.parse(fs.readFileSync(path.join(root, '.cache', 'tensorflow', 'cpu', 'build.json'), 'utf8'));
  assert.equal(build.wheel, 'tensorflow-cpu==2.21.0');
  // one tfjs: the build holds no copy of @tensorflow/tfjs or tfjs-core of its own
  assert.deepEqual(fs.readdirSync(path.join(root, '.cache', 'tensorflow', 'cpu', 'node_modules', '@tensorflow')), ['tfjs-node']);
});

test('--gpu without an NVIDIA driver says so in one line and goes on', { skip: spawnSync('sh', ['-c', 'command -v nvidia-smi']).status === 0 ? 'this machine has nvidia-smi' : false }, () => {
  const r = setup(['--gpu']);
  assert.equal(r.status, 0);
  assert.equal(lines(r.stderr).length, 1, r.stderr);
  assert.match(r.stderr, /tensorflow backend: not installed \(--gpu: no NVIDIA driver here \(nvidia-smi not found\)\); the native backend runs/);
});
