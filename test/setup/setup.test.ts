// The set-up script: idempotent when everything is present; without apt-get it names what is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');
const setup = (env: Record<string, string>) =>
  spawnSync('bash', [path.join(root, 'scripts', 'setup.sh')], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });

test('a second set-up run finds everything present and installs nothing', () => {
  const r = setup({});
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /system packages: present/);
  assert.match(r.stderr, /npm packages: present/);
  assert.match(r.stderr, /tslab kernel: registered/);
  // found built and not rebuilt; or, where no compiler or headers are (the fused-kernel tests then skip), saying why
  assert.match(r.stderr, /fused kernels: (built\n|could not build the addon \(.*build\.log\); the native backend runs without them)/);
  assert.doesNotMatch(r.stderr, /installing/);
});

test('without apt-get, a missing package is named with the command that installs it, and set-up stops', () => {
  const r = setup({ CROSSFLOW_NO_APT: '1', CROSSFLOW_CHROMIUM: '/nonexistent/chromium' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /missing system packages: chromium/);
  assert.match(r.stderr, /apt-get install -y --no-install-recommends chromium/);
  assert.match(r.stderr, /brew install/);
});
