// Backend selection: order, override, clear errors; and the CLI's --json convention.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');
const cli = path.join(root, 'bin', 'crossflow.js');

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' });
}

test('crossflow backend --json picks native here and prints one JSON object on the last line', () => {
  const out = execFileSync(process.execPath, [cli, 'backend', '--json'], { cwd: root, encoding: 'utf8', env: { ...process.env, CROSSFLOW_BACKEND: '' } });
  const lines = out.trim().split('\n');
  const report = JSON.parse(lines[lines.length - 1]);
  assert.equal(report.backend, 'native');
  assert.equal(report.tfjsBackend, 'native');
  assert.equal(report.versions['@tensorflow/tfjs'], '4.22.0');
  assert.ok(report.blasThreads >= 1);
  assert.match(report.blasLibrary, /blas/);
  // tfjs-node is an npm alias of plain tfjs here (for danfojs); it must not count as installed
  assert.equal(report.skipped['tfjs-node'], 'not installed');
  assert.equal(report.versions['@tensorflow/tfjs-node'], undefined);
});

test('CROSSFLOW_BACKEND forces a backend, and an unknown one names the allowed values', () => {
  const cpu = run(['backend', '--json'], { CROSSFLOW_BACKEND: 'cpu' });
  assert.equal(cpu.status, 0, cpu.stderr);
  assert.equal(JSON.parse(cpu.stdout.trim().split('\n').pop()!).backend, 'cpu');
  const bad = run(['backend'], { CROSSFLOW_BACKEND: 'gpu' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /CROSSFLOW_BACKEND='gpu' is not a backend; allowed values: tfjs-node-gpu, tfjs-node, native, wasm, cpu/);
  assert.doesNotMatch(bad.stderr, /at .*\.ts:\d+/); // a message, not a stack trace
});

test('bad command arguments are rejected with the allowed values', () => {
  const r = run(['bench', 'resnet']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /invalid workload: "resnet"; allowed: ref-dit, sgemm/);
});
