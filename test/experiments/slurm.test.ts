// The Slurm executor against a real Slurm: a single-node cluster of Debian's slurmctld, slurmd and munged that
// this file starts and stops itself (test/experiments/slurmCluster.ts), in a network namespace of its own with
// only a loopback interface: nothing of it listens on the machine's interfaces (checked with ss), and every
// command that talks to it (the crossflow CLI, squeue, scancel) runs in that namespace. A tiny study goes through sbatch to
// the end, and its result files and reports equal the local executor's; a task cancelled partway is completed
// by a second submission with the same result files; bad options are errors naming the option. Where Slurm
// cannot run (no root, not Linux, not installed, no network namespaces) every test here is skipped with the reason.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { SlurmSubmission } from '../../lib/experiments/slurmView';
import type { StudyStatus } from '../../lib/experiments/status';
import { slurmSkipReason, startTestCluster, TestCluster } from './slurmCluster';
import { resultFiles, withoutTiming } from './resultFiles';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'crossflow.js');
const skip = slurmSkipReason();
if (skip) process.stderr.write(`slurm tests skipped: ${skip}\n`);

let cluster: TestCluster | null = null;
before(async () => {
  if (!skip) cluster = await startTestCluster();
}, { timeout: 60_000 });
after(async () => {
  await cluster?.stop();
});

/** `cmd args` inside the cluster's network namespace, where its daemons are reachable (as is, without a cluster). */
function inCluster(cmd: string, args: string[]): [string, string[]] {
  return cluster ? cluster.inside(cmd, args) : [cmd, args];
}

function ablate(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(...inCluster(process.execPath, [CLI, 'ablate', ...args]), { cwd: ROOT, env: cluster?.env ?? process.env, encoding: 'utf8' });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function ablateJson<T>(args: string[]): T {
  const r = ablate([...args, '--json']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

const statusOf = (args: string[]) => ablateJson<{ studies: StudyStatus[] }>([...args, '--status']).studies[0];

interface Submitted {
  submissions: Array<{ job: string | null; tasks: Array<{ task: string; row: string; seed: number; log: string }>; done: number; active: number; report_job: string | null }>;
}


/** The reports a sweep writes, without the lines that report time (a block's wall time per run, the overview's compute). */
function reports(results: string): Record<string, string> {
  const read = (f: string) => fs.readFileSync(path.join(results, f), 'utf8').split('\n').filter((l) => !l.startsWith('Wall time per run') && !l.startsWith('Compute')).join('\n');
  return { 'encoder/REPORT.md': read('encoder/REPORT.md'), 'encoder/table.tex': read('encoder/table.tex'), 'README.md': read('README.md') };
}

// Both executors write into the same folders in turn (each result file records its command, folders included);
// after each run its results move aside for the comparison.
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-slurm-study-'));
const results = path.join(base, 'results');
const runs = path.join(base, 'runs');
const study = ['encoder', '--profile', 'smoke', '--rows', 'encoder,ve', '--seeds', '2', '--results-dir', results, '--runs-dir', runs];
/** Seed 0 only: the cancelled-and-resubmitted study (its result files are a subset of the full study's). */
const seed0 = study.map((a, i) => (study[i - 1] === '--seeds' ? '1' : a));

let localReference: string | null = null;
/** The local executor's results of the study, two runs at a time with one BLAS thread each (as the Slurm tasks with --cpus 1). */
function local(): string {
  if (localReference) return localReference;
  const r = ablate([...study, '--jobs', '2']);
  assert.equal(r.status, 0, r.stderr);
  localReference = path.join(base, 'local');
  fs.renameSync(results, localReference);
  fs.rmSync(runs, { recursive: true });
  return localReference;
}

/** The result files in `dir` are the local executor's, byte for byte apart from timings (and so are the reports, for the whole study). */
function assertSameAsLocal(dir: string, runs: number) {
  const ref = local();
  const files = resultFiles(dir);
  assert.equal(files.length, 2 * runs, 'a result file and a sample strip per run');
  assert.deepEqual(files, resultFiles(ref).filter((f) => files.includes(f)));
  for (const f of files) assert.equal(withoutTiming(path.join(dir, f)), withoutTiming(path.join(ref, f)), f);
  if (runs === 4) assert.deepEqual(reports(dir), reports(ref));
}

async function waitForSlurm(): Promise<void> {
  await cluster!.waitIdle(150_000);
}

/** Listening TCP and UDP sockets as `ss -H -ltunp` prints them, in this process's network namespace or (inCluster) the cluster's. */
function listening(inCluster: boolean): Array<{ address: string; port: number; line: string }> {
  const args = ['-H', '-ltunp'];
  const r = spawnSync(...(inCluster ? cluster!.inside('ss', args) : ['ss', args] as [string, string[]]), { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l.trim()).map((line) => {
    const local = line.trim().split(/\s+/)[4]; // Netid State Recv-Q Send-Q Local Peer Process
    const at = local.lastIndexOf(':');
    return { address: local.slice(0, at), port: Number(local.slice(at + 1)), line };
  });
}

test('the cluster listens on loopback only: its daemons live in a network namespace whose one interface is lo', { skip: skip ?? false }, (t) => {
  const c = cluster!;
  const ports = [c.ports.slurmctld, c.ports.slurmd];
  // The machine's own namespace: neither port, and no socket of a Slurm or munge daemon, on any address.
  const outside = listening(false);
  t.diagnostic('ss -ltunp (root namespace):');
  for (const s of outside) t.diagnostic(`  ${s.line.trim()}`);
  assert.deepEqual(outside.filter((s) => ports.includes(s.port) || /slurm|munge/.test(s.line)).map((s) => s.line), []);
  // The cluster's namespace: both ports, held by slurmctld and slurmd; its only interface is the loopback.
  const inside = listening(true);
  t.diagnostic(`ss -ltunp in ${c.netns}:`);
  for (const s of inside) t.diagnostic(`  ${s.line.trim()}`);
  for (const [daemon, port] of Object.entries(c.ports)) {
    const held = inside.filter((s) => s.port === port);
    assert.ok(held.length > 0 && held.every((s) => s.line.includes(`"${daemon}"`)), `${daemon} listens on ${port} in ${c.netns}:\n${inside.map((s) => s.line).join('\n')}`);
  }
  const links = spawnSync(...c.inside('ip', ['-o', 'link', 'show']), { encoding: 'utf8' });
  assert.equal(links.status, 0, links.stderr);
  assert.deepEqual(links.stdout.trim().split('\n').map((l) => l.split(':')[1].trim()), ['lo'], links.stdout);
  const addresses = spawnSync(...c.inside('ip', ['-o', 'addr', 'show']), { encoding: 'utf8' });
  assert.equal(addresses.status, 0, addresses.stderr);
  for (const l of addresses.stdout.trim().split('\n')) assert.match(l, /^\d+: lo\s+(inet 127\.\d+\.\d+\.\d+\/8|inet6 ::1\/128) /, addresses.stdout);
});

test('a study submitted through sbatch runs to the end; its result files and reports equal the local executor\'s', { skip: skip ?? false, timeout: 300_000 }, async () => {
  local();

  const t0 = Date.now();
  const sub = ablateJson<Submitted>([...study, '--executor', 'slurm', '--cpus', '1']).submissions[0];
  const submitSeconds = (Date.now() - t0) / 1000;
  assert.match(sub.job!, /^\d+$/);
  assert.deepEqual(sub.tasks.map((t) => `${t.task} ${t.row}/seed${t.seed}`), [0, 1, 2, 3].map((i) => `${sub.job}_${i} ${['encoder', 've'][i % 2]}/seed${Math.floor(i / 2)}`));
  assert.ok(sub.report_job, 'a reports job follows the array');
  // One job array of four tasks, in Slurm's queue: the command returned without waiting for them.
  const queued = cluster!.run('squeue', ['-h', '-r', '-j', sub.job!, '-o', '%i']).trim().split('\n').filter(Boolean);
  assert.ok(queued.length > 0, `the command returned (after ${submitSeconds} s) while its tasks wait or run`);
  const watching = statusOf(study);
  assert.equal(watching.counts.done + watching.counts.running + watching.counts.queued, 4, JSON.stringify(watching.counts));

  await waitForSlurm();
  const end = statusOf(study);
  assert.deepEqual(end.counts, { done: 4, running: 0, pending: 0, failed: 0, queued: 0 });
  assert.deepEqual(end.jobs.map((j) => [j.kind, j.job, j.state]), [['report', sub.report_job, 'done']]);
  const record = JSON.parse(fs.readFileSync(path.join(runs, 'slurm', `${sub.job}.json`), 'utf8')) as SlurmSubmission;
  assert.ok(record.sbatch.includes('--array=0-3'));
  for (const t of record.tasks) {
    const log = fs.readFileSync(t.log, 'utf8');
    assert.ok(log.includes(`bin/crossflow.js ablate encoder --profile smoke --rows ${t.row} --seed ${t.seed} --results-dir ${results} --runs-dir ${runs}\n`), 'the local executor\'s single-run command');
    assert.deepEqual(JSON.parse(fs.readFileSync(`${t.runDir}.exit`, 'utf8')).code, 0);
  }
  // Submitting again finds everything done and submits nothing.
  const again = ablateJson<Submitted>([...study, '--executor', 'slurm']).submissions[0];
  assert.deepEqual([again.job, again.done, again.active], [null, 4, 0]);

  const slurmResults = path.join(base, 'slurm');
  fs.renameSync(results, slurmResults);
  fs.rmSync(runs, { recursive: true });
  assertSameAsLocal(slurmResults, 4);
});

test('a task cancelled partway (scancel) is completed by a second submission, resuming its checkpoint, with the results of an uninterrupted run', { skip: skip ?? false, timeout: 300_000 }, async (t) => {
  local();
  const sub = ablateJson<Submitted>([...seed0, '--executor', 'slurm', '--cpus', '1']).submissions[0];
  const record = JSON.parse(fs.readFileSync(path.join(runs, 'slurm', `${sub.job}.json`), 'utf8')) as SlurmSubmission;
  // Cancel the first task that has a checkpoint but has not finished training.
  const victim = await new Promise<SlurmSubmission['tasks'][number] | null>((resolve) => {
    const t0 = Date.now();
    const poll = setInterval(() => {
      const half = record.tasks.find((x) => fs.existsSync(path.join(x.runDir, 'checkpoint.ckpt')) && !fs.existsSync(path.join(x.runDir, 'summary.json')));
      if (half) {
        clearInterval(poll);
        cluster!.run('scancel', [half.job]);
        resolve(half);
      } else if (Date.now() - t0 > 120_000) {
        clearInterval(poll);
        resolve(null);
      }
    }, 5);
  });
  assert.ok(victim, 'a task was cancelled with a half-trained run');
  await waitForSlurm();
  const killedInTraining = !fs.existsSync(path.join(victim.runDir, 'summary.json'));
  t.diagnostic(`cancelled ${victim.job} (${victim.row}/seed${victim.seed}) ${killedInTraining ? 'while training' : 'after training, while evaluating'}`);

  const mid = statusOf(seed0);
  assert.deepEqual([mid.counts.done, mid.counts.failed, mid.counts.running, mid.counts.pending], [1, 1, 0, 0]);
  const failed = mid.runs.find((r) => r.state === 'failed')!;
  assert.deepEqual([failed.row, failed.seed, failed.job], [victim.row, victim.seed, victim.job]);
  assert.equal(failed.log, victim.log, 'the failed task names its log file');
  assert.match(failed.reason!, /143|CANCELLED/);
  const logLines = fs.readFileSync(victim.log, 'utf8').split(/\r|\n/).filter((l) => l.trim());
  assert.equal(failed.tail, logLines.slice(-8).join('\n'), 'and its last lines');
  assert.match(failed.tail!, /CANCELLED|exit 143/);
  const text = ablate([...seed0, '--status']);
  assert.match(text.stdout, new RegExp(`failed\\s+${victim.row}/seed${victim.seed}.*\\n\\s+log ${victim.log.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));

  // The second submission sends only the cancelled run, which resumes from its checkpoint.
  const second = ablateJson<Submitted>([...seed0, '--executor', 'slurm', '--cpus', '1']).submissions[0];
  assert.deepEqual(second.tasks.map((x) => `${x.row}/seed${x.seed}`), [`${victim.row}/seed${victim.seed}`]);
  assert.deepEqual([second.done, second.active], [1, 0]);
  await waitForSlurm();
  const resumedLog = fs.readFileSync(second.tasks[0].log, 'utf8');
  assert.match(resumedLog, killedInTraining ? new RegExp(`resuming ${victim.runDir} from step 10`) : /trained already/);
  assert.deepEqual(statusOf(seed0).counts, { done: 2, running: 0, pending: 0, failed: 0, queued: 0 });

  const resumed = path.join(base, 'resumed');
  fs.renameSync(results, resumed);
  fs.rmSync(runs, { recursive: true });
  assertSameAsLocal(resumed, 2);
});

test('a bad partition, time limit, CPU count or memory size is an error naming the option, and nothing is submitted', { skip: skip ?? false, timeout: 120_000 }, (t) => {
  const c = cluster!;
  const dirs = ['--results-dir', path.join(base, 'bad', 'results'), '--runs-dir', path.join(base, 'bad', 'runs')];
  const err = (extra: string[]) => {
    const r = ablate(['encoder', '--profile', 'smoke', ...dirs, '--executor', 'slurm', ...extra]);
    assert.equal(r.status, 1, r.stdout);
    return r.stderr;
  };
  assert.match(err(['--partition', 'nope']), /invalid --partition: "nope"; allowed: this cluster's partitions: debug/);
  assert.match(err(['--time', '2:00:00']), new RegExp(`--time 2:00:00 is longer than partition 'debug' allows \\(${c.maxTime}\\)`));
  assert.match(err(['--time', 'half an hour']), /invalid --time: "half an hour"; allowed: minutes, minutes:seconds, hours:minutes:seconds/);
  assert.match(err(['--cpus', String(c.cpus + 1)]), new RegExp(`--cpus ${c.cpus + 1}: the nodes of partition 'debug' have at most ${c.cpus} CPUs`));
  assert.match(err(['--mem', '1000T']), /--mem 1000T: the nodes of partition 'debug' have at most \d+ MB/);
  assert.equal(c.run('squeue', ['-h', '-o', '%i']).trim(), '', 'nothing submitted');
  // A results folder this account cannot write: said before anything reaches Slurm.
  const locked = fs.mkdtempSync(path.join(os.tmpdir(), 'crossflow-readonly-'));
  fs.chmodSync(locked, 0o555);
  const asNobody = spawnSync(...c.inside('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, 'ablate', 'encoder', '--profile', 'smoke', '--executor', 'slurm', '--results-dir', path.join(locked, 'results'), '--runs-dir', path.join(locked, 'runs')]), { cwd: ROOT, env: c.env, encoding: 'utf8' });
  if (/Cannot find module|EACCES.*(crossflow\.js|node_modules|tsx)/.test(asNobody.stderr)) {
    t.diagnostic(`not checked: an unprivileged account cannot run the checkout here (${asNobody.stderr.trim().split('\n')[0]})`);
  } else {
    assert.equal(asNobody.status, 1);
    assert.match(asNobody.stderr, new RegExp(`--results-dir ${locked}/results is not writable from here \\(EACCES\\).*filesystem every node of the cluster shares`));
  }
});
