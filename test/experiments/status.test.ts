// `crossflow ablate --status` with the local executor, and the Slurm executor's pieces that need no cluster:
// Slurm's time and memory formats, the task script (run by bash with a stand-in for node), and the options'
// errors. test/experiments/slurm.test.ts runs the executor against a real Slurm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as lockfile from 'proper-lockfile';
import { parseSlurmMem, parseSlurmTime, taskScript } from '../../lib/experiments/slurm';
import type { StudyStatus } from '../../lib/experiments/status';
import { REPO_ROOT } from '../../lib/paths';

const CLI = path.join(REPO_ROOT, 'bin', 'crossflow.js');

function ablate(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [CLI, 'ablate', ...args], { cwd: REPO_ROOT, env, encoding: 'utf8' });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}
const lastJson = <T>(stdout: string): T => JSON.parse(stdout.trim().split('\n').pop()!) as T;

test("Slurm's time formats in seconds (0 and infinite: no limit), memory sizes in MB; anything else is null", () => {
  const times: Array<[string, number | null]> = [
    ['30', 1800], ['30:15', 1815], ['1:30:00', 5400], ['2-12', 2 * 86400 + 12 * 3600], ['2-12:30', 2 * 86400 + 12 * 3600 + 1800],
    ['2-12:30:15', 2 * 86400 + 12 * 3600 + 1815], ['0', Infinity], ['infinite', Infinity], ['UNLIMITED', Infinity],
    ['abc', null], ['1:2:3:4', null], ['-5', null], ['1.5', null], ['', null],
  ];
  for (const [t, s] of times) assert.equal(parseSlurmTime(t), s, t);
  const mems: Array<[string, number | null]> = [['4000', 4000], ['4G', 4096], ['4g', 4096], ['512K', 0.5], ['1T', 1024 * 1024], ['2GB', 2048], ['lots', null], ['4 G', null]];
  for (const [m, mb] of mems) assert.equal(parseSlurmMem(m), mb, m);
});

test('the task script runs its manifest line in the repository with one BLAS thread per CPU, and records the exit code as JSON', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-task-"q\\'));
  const fakeNode = path.join(dir, 'node');
  fs.writeFileSync(fakeNode, '#!/bin/bash\nprintf "%s\\n" "cwd=$PWD" "blas=$OPENBLAS_NUM_THREADS" "setup=${SETUP_RAN:-}" "$@"\n[ -n "${FAKE_SLEEP:-}" ] && exec sleep 30\nexit "${FAKE_EXIT:-0}"\n', { mode: 0o755 });
  const script = path.join(dir, 'task.sbatch');
  fs.writeFileSync(script, taskScript('export SETUP_RAN=yes'));
  const manifest = path.join(dir, 'x.tasks');
  const runDir = (k: number) => path.join(dir, `run${k}`);
  fs.writeFileSync(manifest, [0, 1].map((k) => [runDir(k), 'ablate', 'encoder', 'two words', `--seed`, String(k)].join('\t')).join('\n') + '\n');
  const env = (task: number, extra: Record<string, string>) => ({ ...process.env, SLURM_ARRAY_JOB_ID: '7', SLURM_ARRAY_TASK_ID: String(task), SLURM_CPUS_PER_TASK: '3', CROSSFLOW_NODE: fakeNode, ...extra });
  const r = spawnSync('bash', [script, manifest], { env: env(1, { FAKE_EXIT: '3' }), encoding: 'utf8' });
  assert.equal(r.status, 3, r.stderr);
  const out = r.stdout.split('\n');
  const args = out.slice(out.indexOf('setup=yes') + 1, out.indexOf('setup=yes') + 7);
  assert.deepEqual(args, [CLI, 'ablate', 'encoder', 'two words', '--seed', '1'], 'line 2 of the manifest, arguments split on tabs only');
  assert.ok(out.includes(`cwd=${REPO_ROOT}`) && out.includes('blas=3'), r.stdout);
  const marker = JSON.parse(fs.readFileSync(`${runDir(1)}.exit`, 'utf8'));
  assert.deepEqual({ ...marker, finished: undefined }, { code: 3, executor: 'slurm', job: '7_1', log: path.join(dir, '7_1.log'), host: os.hostname(), finished: undefined });
  assert.ok(Math.abs(Date.parse(marker.finished) - Date.now()) < 60_000);
  assert.ok(!fs.existsSync(`${runDir(0)}.exit`), 'only its own run');

  // scancel, preemption and time limits send SIGTERM: it reaches the run, and the code says so.
  const child = spawn('bash', [script, manifest], { env: env(0, { FAKE_SLEEP: '1' }), stdio: ['ignore', 'pipe', 'pipe'] });
  let seen = '';
  await new Promise<void>((resolve) => child.stdout!.on('data', (b: Buffer) => ((seen += b.toString()), seen.includes('--seed\n0') && resolve())));
  await new Promise((r) => setTimeout(r, 200));
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 143);
  assert.equal(JSON.parse(fs.readFileSync(`${runDir(0)}.exit`, 'utf8')).code, 143);
});

test('--status: done and failed runs of the local executor, the failed one with its log and last lines; a locked run is running', { timeout: 300_000 }, async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-status-'));
  const args = ['encoder', '--profile', 'smoke', '--rows', 'encoder,ve', '--results-dir', path.join(base, 'results'), '--runs-dir', path.join(base, 'runs')];
  const status = () => {
    const r = ablate([...args, '--status', '--json']);
    assert.equal(r.status, 0, r.stderr);
    return lastJson<{ studies: StudyStatus[] }>(r.stdout).studies[0];
  };
  const before = status();
  assert.deepEqual(before.counts, { done: 0, running: 0, pending: 2, failed: 0, queued: 0 });
  // A file where the `encoder` row's run directory goes: that run fails, the other finishes.
  const blocked = before.runs.find((r) => r.row === 'encoder')!.run_dir;
  fs.mkdirSync(path.dirname(blocked), { recursive: true });
  fs.writeFileSync(blocked, 'not a directory');
  const sweep = ablate(args);
  assert.equal(sweep.status, 1);
  assert.match(sweep.stderr, /1 run\(s\) failed/);

  const after = status();
  assert.deepEqual(after.counts, { done: 1, running: 0, pending: 0, failed: 1, queued: 0 });
  const failed = after.runs.find((r) => r.state === 'failed')!;
  assert.deepEqual([failed.row, failed.executor, failed.exit_code, failed.log], ['encoder', 'local', 1, `${blocked}.log`]);
  assert.match(failed.tail!, /EEXIST/);
  assert.equal(failed.tail, fs.readFileSync(`${blocked}.log`, 'utf8').split(/\r|\n/).filter((l) => l.trim()).slice(-8).join('\n'));
  assert.equal(after.runs.find((r) => r.row === 've')!.state, 'done');
  const text = ablate([...args, '--status']).stdout;
  assert.match(text, /encoder \(smoke\): 2 runs: 1 done, 0 running, 0 pending, 1 failed/);
  assert.match(text, new RegExp(`failed\\s+encoder/seed0 .*exit 1\\n\\s+log ${blocked}\\.log\\n\\s+\\| .*EEXIST`));

  // While some process holds the run directory's lock (an executor working on it), the run is running.
  const release = await lockfile.lock(blocked, { lockfilePath: `${blocked}.lock`, realpath: false, stale: 10_000, update: 5_000 });
  try {
    assert.equal(status().runs.find((r) => r.row === 'encoder')!.state, 'running');
  } finally {
    await release();
  }
  assert.equal(status().runs.find((r) => r.row === 'encoder')!.state, 'failed');
});

test('executor options: an unknown executor, Slurm options without --executor slurm, and no Slurm commands are errors that say so', () => {
  const dirs = ['--results-dir', path.join(os.tmpdir(), 'crossflow-opts', 'results'), '--runs-dir', path.join(os.tmpdir(), 'crossflow-opts', 'runs')];
  assert.match(ablate(['encoder', '--profile', 'smoke', '--executor', 'pbs', ...dirs]).stderr, /invalid --executor: "pbs"; allowed: local, slurm/);
  for (const o of [['--partition', 'debug'], ['--time', '30'], ['--cpus', '2'], ['--mem', '4G']])
    assert.match(ablate(['encoder', '--profile', 'smoke', ...o, ...dirs]).stderr, new RegExp(`${o[0]} is an option of --executor slurm`));
  const noSlurm = ablate(['encoder', '--profile', 'smoke', '--executor', 'slurm', ...dirs], { ...process.env, PATH: fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-empty-path-')) });
  assert.equal(noSlurm.status, 1);
  assert.match(noSlurm.stderr, /--executor slurm: 'sinfo' is not on PATH: run this on a machine of the cluster/);
});
