// A run directory's lock must stay held while its holder is busy in synchronous work (a batch of sampling
// blocks the event loop, and with it the timer that refreshes the lock): another process must neither see
// it stale nor take it over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as lockfile from 'proper-lockfile';
import { LOCK_STALE_MS, lockOptions } from '../../lib/experiments/lock';

const BLOCK_MS = 12_000; // longer than the 10 s staleness the locks had, shorter than today's

test('a lock whose holder blocks its event loop for 12 s stays held, and is free once it is released', { timeout: 60_000 }, async () => {
  assert.ok(LOCK_STALE_MS > BLOCK_MS);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-lock-'));
  const runDir = path.join(dir, 'run');
  fs.mkdirSync(runDir);
  const holder = spawn(process.execPath, ['-e', `
    const lockfile = require('proper-lockfile');
    lockfile.lock(${JSON.stringify(runDir)}, ${JSON.stringify(lockOptions(runDir))}).then(async (release) => {
      console.log('locked');
      const end = Date.now() + ${BLOCK_MS};
      while (Date.now() < end) {} // synchronous work: no timer runs
      await release();
      console.log('released');
    });
  `], { cwd: path.join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const seen = (word: string) => new Promise<void>((resolve) => {
    const check = () => { if (out.includes(word)) resolve(); };
    holder.stdout.on('data', (d: Buffer) => { out += d.toString(); check(); });
    check();
  });
  await seen('locked');
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, BLOCK_MS - 1_000));
  const options = { ...lockOptions(runDir), realpath: false };
  assert.ok(Date.now() - t0 > 10_000);
  assert.equal(lockfile.checkSync(runDir, options), true, 'held, not stale, while its holder is blocked');
  await assert.rejects(lockfile.lock(runDir, options), (e: { code?: string }) => e.code === 'ELOCKED');
  await seen('released');
  await new Promise((r) => holder.on('exit', r));
  assert.equal(lockfile.checkSync(runDir, options), false, 'free once released');
  fs.rmSync(dir, { recursive: true, force: true });
});
