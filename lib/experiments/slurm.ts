// The Slurm executor: a study's runs that are neither done, running nor queued go to a cluster as
// ONE job array (`sbatch --array=0-(n-1)`), whose task i runs line i of a manifest: the same
// single-run command the local executor spawns (`crossflow ablate <study> --rows R --seed K ...`),
// which resumes from the run's checkpoint. The command returns at once with the job id.
//
// Everything lives in files the nodes share, under `<runs-dir>/slurm/`: the task script
// (`<stamp>.sbatch`), the manifest (`<stamp>.tasks`), one log per task (`<job>_<task>.log`, sbatch's
// --output) and a record per submission (`<job>.json`: which task runs which run). Each task writes its
// exit code to `<runDir>.exit`, as the local executor does, so `--status` (lib/experiments/status.ts)
// needs Slurm only to tell queued and running tasks apart (`squeue`; no accounting database).
// Two helper jobs go with the array: the shared autoencoder first, when it is not trained yet
// (`crossflow train-autoencoder`, as the local executor trains it before its children), and the
// study's reports after the array ends (`crossflow ablate <study> --report`, what the local executor
// writes at the end).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CrossflowError, invalidValue } from '../errors';
import { presetConfig } from '../models/presets';
import type { Profile } from '../notebooks/profile';
import { REPO_ROOT } from '../paths';
import { autoencoderFile } from '../trainingData/latents';
import { PlannedRun, planStudy, SweepDirs } from './plan';
import { writeFileAtomic } from './runOne';
import { SCALES } from './scale';
import { runStatus } from './status';
import type { Study } from './study';
import { childArgs, CLI, lockStudy } from './sweep';
import type { QueueEntry, SlurmHelperJob, SlurmOptions, SlurmSubmission, SlurmTask, SlurmView } from './slurmView';

export const slurmDirOf = (dirs: SweepDirs): string => path.join(dirs.runs, 'slurm');

// --- Slurm's commands ---------------------------------------------------------------------------

interface CommandResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** Runs one of Slurm's commands; a missing command is an error that says where --executor slurm works. */
function slurmCommand(cmd: string, args: string[]): CommandResult {
  try {
    const stdout = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    return { ok: true, stdout, stderr: '' };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === 'ENOENT')
      throw new CrossflowError(`--executor slurm: '${cmd}' is not on PATH: run this on a machine of the cluster (a login node) where Slurm's commands (sbatch, squeue, sinfo) work`);
    return { ok: false, stdout: e.stdout ?? '', stderr: (e.stderr ?? '').trim() || e.message };
  }
}

/** Every task this account has in the queue (and those Slurm still remembers as ended), by `<job>_<task>` or `<job>`. */
export function readQueue(): { queue: Map<string, QueueEntry> | null; error?: string } {
  let r: CommandResult;
  try {
    r = slurmCommand('squeue', ['-h', '-r', '-t', 'all', '-u', os.userInfo().username, '-o', '%i|%T|%r']);
  } catch (err) {
    return { queue: null, error: (err as Error).message };
  }
  if (!r.ok) return { queue: null, error: `squeue failed: ${r.stderr}` };
  const queue = new Map<string, QueueEntry>();
  for (const line of r.stdout.split('\n')) {
    const [id, state, reason] = line.trim().split('|');
    if (id && state) queue.set(id, { state, reason: reason ?? '' });
  }
  return { queue };
}

export function readSubmissions(dirs: SweepDirs): SlurmSubmission[] {
  const dir = slurmDirOf(dirs);
  if (!fs.existsSync(dir)) return [];
  const out: SlurmSubmission[] = [];
  for (const f of fs.readdirSync(dir).filter((x) => /^\d+\.json$/.test(x))) {
    try {
      const s = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as SlurmSubmission;
      if (s.results === dirs.results) out.push(s);
    } catch {
      // a record being written: the next look sees it
    }
  }
  return out;
}

/** The submissions of this results folder and, when there are any, Slurm's queue. */
export function slurmView(dirs: SweepDirs): SlurmView {
  const submissions = readSubmissions(dirs);
  if (!submissions.length) return { submissions, queue: new Map() };
  const { queue, error } = readQueue();
  return { submissions, queue, ...(error ? { queueError: error } : {}) };
}

// --- Checking the options against the cluster ---------------------------------------------------

/** A Slurm time ("30", "30:00", "1:30:00", "2-12", "2-12:30", "2-12:30:00"; "0", "infinite", "unlimited" = none) in seconds; null when malformed. */
export function parseSlurmTime(text: string): number | null {
  const t = text.trim();
  if (/^(infinite|unlimited)$/i.test(t)) return Infinity;
  const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(t);
  if (!m) return null;
  const [, d, a, b, c] = m;
  const n = (x: string | undefined) => (x === undefined ? 0 : Number(x));
  let seconds: number;
  if (d !== undefined) seconds = n(d) * 86400 + n(a) * 3600 + n(b) * 60 + n(c); // days-hours[:minutes[:seconds]]
  else if (c !== undefined) seconds = n(a) * 3600 + n(b) * 60 + n(c); // hours:minutes:seconds
  else seconds = n(a) * 60 + n(b); // minutes[:seconds]
  return seconds === 0 ? Infinity : seconds;
}

export const SLURM_TIME_FORMATS = 'minutes, minutes:seconds, hours:minutes:seconds, days-hours, days-hours:minutes or days-hours:minutes:seconds (e.g. 30, 1:30:00, 1-00:00:00)';

/** A Slurm memory size ("4000" = MB, "500K", "4G", "1T") in MB; null when malformed. */
export function parseSlurmMem(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)B?$/i.exec(text.trim());
  if (!m) return null;
  const k = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024, '': 1 }[m[2].toUpperCase() as 'K' | 'M' | 'G' | 'T' | ''];
  return Number(m[1]) * k;
}

export interface Partition {
  name: string;
  isDefault: boolean;
  /** Seconds (Infinity: none). */
  maxTime: number;
  maxTimeText: string;
  /** The largest node's CPUs and memory (MB). */
  maxCpus: number;
  maxMemMb: number;
  nodes: string[];
  available: string;
}

/** The cluster's partitions as sinfo lists them, one line per node and partition. */
export function readPartitions(): Partition[] {
  const r = slurmCommand('sinfo', ['-h', '-N', '-o', '%N|%P|%l|%c|%m|%a']);
  if (!r.ok) throw new CrossflowError(`--executor slurm: sinfo failed, so Slurm cannot be reached from here: ${r.stderr}`);
  const byName = new Map<string, Partition>();
  for (const line of r.stdout.split('\n').filter((l) => l.trim())) {
    const [node, rawName, time, cpus, mem, avail] = line.trim().split('|');
    const name = rawName.replace(/\*$/, '');
    const p = byName.get(name) ?? { name, isDefault: rawName.endsWith('*'), maxTime: parseSlurmTime(time) ?? Infinity, maxTimeText: time, maxCpus: 0, maxMemMb: 0, nodes: [], available: avail };
    p.maxCpus = Math.max(p.maxCpus, parseInt(cpus, 10) || 0);
    p.maxMemMb = Math.max(p.maxMemMb, parseInt(mem, 10) || 0);
    p.nodes.push(node);
    byName.set(name, p);
  }
  return [...byName.values()];
}

/** Checks --partition, --time, --cpus and --mem against the cluster before anything is submitted; returns the partition used. */
export function checkSlurmOptions(o: SlurmOptions, partitions: Partition[]): Partition {
  const names = partitions.map((p) => p.name).join(', ');
  let part: Partition | undefined;
  if (o.partition !== undefined) {
    part = partitions.find((p) => p.name === o.partition);
    if (!part) throw invalidValue('--partition', o.partition, `this cluster's partitions: ${names || '(none: sinfo lists no partition)'}`);
  } else {
    part = partitions.find((p) => p.isDefault);
    if (!part) throw new CrossflowError(`--partition: this cluster has no default partition; name one with --partition: ${names}`);
  }
  if (o.time !== undefined) {
    const seconds = parseSlurmTime(o.time);
    if (seconds === null) throw invalidValue('--time', o.time, SLURM_TIME_FORMATS);
    if (seconds > part.maxTime)
      throw new CrossflowError(`--time ${o.time} is longer than partition '${part.name}' allows (${part.maxTimeText}): give --time ${part.maxTimeText} or less, or another --partition (${names})`);
  }
  if (o.cpus !== undefined && o.cpus > part.maxCpus)
    throw new CrossflowError(`--cpus ${o.cpus}: the nodes of partition '${part.name}' have at most ${part.maxCpus} CPUs`);
  if (o.mem !== undefined) {
    const mb = parseSlurmMem(o.mem);
    if (mb === null) throw invalidValue('--mem', o.mem, 'a size in Slurm\'s format: megabytes, or a number with K, M, G or T (e.g. 4000, 4G)');
    if (mb > part.maxMemMb) throw new CrossflowError(`--mem ${o.mem}: the nodes of partition '${part.name}' have at most ${part.maxMemMb} MB`);
  }
  return part;
}

/** sbatch's refusal, with the option it is about when its message says. */
function sbatchError(stderr: string, o: SlurmOptions): CrossflowError {
  const msg = stderr.split('\n').filter((l) => l.trim()).join('; ');
  const about: Array<[RegExp, string]> = [
    [/partition/i, `--partition${o.partition ? ` ${o.partition}` : ''}`],
    [/time/i, `--time${o.time ? ` ${o.time}` : ''}`],
    [/memory|--mem/i, `--mem${o.mem ? ` ${o.mem}` : ''}`],
    [/cpu|node configuration/i, `--cpus${o.cpus ? ` ${o.cpus}` : ''}${o.mem ? ` or --mem ${o.mem}` : ''}`],
  ];
  const hit = about.find(([re]) => re.test(msg));
  return new CrossflowError(`sbatch refused the job${hit ? ` (check ${hit[1]})` : ''}: ${msg}`);
}

/** The folder must exist or be creatable, and writable from here: the tasks write results, checkpoints and logs there. */
export function checkWritable(field: string, dir: string): void {
  const probe = path.join(dir, `.crossflow-write-check-${process.pid}`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(probe, '');
    fs.unlinkSync(probe);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new CrossflowError(
      `${field} ${dir} is not writable from here (${e.code ?? e.message}): the Slurm tasks write their results, checkpoints and logs there, ` +
        `so it must be a folder this account can write, on a filesystem every node of the cluster shares (give another ${field})`,
    );
  }
}

/** The filesystem type of the mount holding `dir` (Linux; null elsewhere). */
function filesystemOf(dir: string): string | null {
  try {
    const real = fs.realpathSync(dir);
    let best = { mount: '', type: '' };
    for (const line of fs.readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [, mount, type] = line.split(' ');
      if (mount && (real === mount || real.startsWith(mount.endsWith('/') ? mount : `${mount}/`)) && mount.length > best.mount.length) best = { mount, type };
    }
    return best.type || null;
  } catch {
    return null;
  }
}

/** A note when a folder looks local to this machine while the partition has other nodes. */
function sharedFolderNote(field: string, dir: string, part: Partition): string | null {
  const here = os.hostname().split('.')[0];
  if (part.nodes.every((n) => n === here)) return null;
  const fsType = filesystemOf(dir);
  const inTmp = fs.realpathSync(dir).startsWith(fs.realpathSync(os.tmpdir()) + path.sep);
  if (!inTmp && fsType !== 'tmpfs' && fsType !== 'ramfs') return null;
  return `note: ${field} ${dir} is ${inTmp ? `under ${os.tmpdir()}` : `on ${fsType}`}, which is usually local to this machine; partition '${part.name}' runs tasks on ${part.nodes.length} node(s), which must all see it`;
}

// --- The task script --------------------------------------------------------------------------

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The batch script every task runs: line SLURM_ARRAY_TASK_ID+1 of the manifest ($1) is
 * "<marker base>\t<arguments of bin/crossflow.js>". `setup` is shell run first on the node
 * (CROSSFLOW_SLURM_SETUP, e.g. `module load nodejs`).
 */
export function taskScript(setup: string): string {
  return `#!/bin/bash
# One task of \`crossflow ablate --executor slurm\`, generated by lib/experiments/slurm.ts (do not edit).
# Line <task index + 1> of the manifest ($1) is "<marker base><TAB><arguments of bin/crossflow.js>": one run's
# single-run command, the one the local executor runs. The exit code goes to "<marker base>.exit".
set -u
manifest="$1"
index="\${SLURM_ARRAY_TASK_ID:-0}"
if [ -n "\${SLURM_ARRAY_TASK_ID:-}" ]; then job="\${SLURM_ARRAY_JOB_ID}_\${SLURM_ARRAY_TASK_ID}"; else job="\${SLURM_JOB_ID:-none}"; fi
log="$(dirname "$manifest")/$job.log"
echo "[crossflow] task $job on $(hostname) at $(date -u +%FT%TZ)"
line="$(sed -n "$((index + 1))p" "$manifest" 2>/dev/null)"
if [ -z "$line" ]; then
  echo "[crossflow] cannot read line $((index + 1)) of $manifest on $(hostname): the runs folder must be on a filesystem the nodes share" >&2
  exit 2
fi
IFS=$'\\t' read -r -a fields <<< "$line"
marker="\${fields[0]}.exit"
json() { local s="\${1//\\\\/\\\\\\\\}"; printf '"%s"' "\${s//\\"/\\\\\\"}"; }
finish() {
  local tmp="$marker.tmp-$$"
  printf '{"code":%d,"executor":"slurm","job":%s,"log":%s,"host":%s,"finished":%s}\\n' "$1" "$(json "$job")" "$(json "$log")" "$(json "$(hostname)")" "$(json "$(date -u +%FT%TZ)")" > "$tmp" && mv -f "$tmp" "$marker"
  echo "[crossflow] task $job: exit $1"
  exit "$1"
}
rm -f "$marker"
cd ${shellQuote(REPO_ROOT)} || { echo "[crossflow] cannot enter ${REPO_ROOT} on $(hostname): the repository must be on a filesystem the nodes share" >&2; finish 2; }
${setup.trim() ? `# CROSSFLOW_SLURM_SETUP at submission:\n${setup.trim()}\n` : ''}# One BLAS thread per CPU Slurm gave the task (the native backend would take every core of the node).
export OPENBLAS_NUM_THREADS="\${SLURM_CPUS_PER_TASK:-1}"
node="\${CROSSFLOW_NODE:-${process.execPath}}"
[ -x "$node" ] || node="$(command -v node || true)"
[ -n "$node" ] || { echo "[crossflow] no node on $(hostname): set CROSSFLOW_NODE, or CROSSFLOW_SLURM_SETUP to what puts Node 20 on PATH" >&2; finish 127; }
echo "[crossflow] $node bin/crossflow.js \${fields[*]:1}"
"$node" ${shellQuote(CLI)} "\${fields[@]:1}" &
child=$!
# scancel, preemption and time limits signal the script: pass it on, wait for the run to stop, record the code.
trap 'kill -TERM "$child" 2>/dev/null' TERM
trap 'kill -INT "$child" 2>/dev/null' INT
while :; do
  wait "$child"
  code=$?
  kill -0 "$child" 2>/dev/null || break
done
finish "$code"
`;
}

// --- Submission ----------------------------------------------------------------------------------

export interface SubmitOptions {
  profile: Profile;
  dirs: SweepDirs;
  rows?: string[];
  seeds?: number;
  slurm: SlurmOptions;
  log?: (m: string) => void;
}

export interface SubmitSummary {
  study: string;
  /** The array job, or null when there was nothing to submit. */
  job: string | null;
  tasks: Array<{ task: string; row: string; seed: number; log: string }>;
  /** Runs left alone: done, or running or queued already. */
  done: number;
  active: number;
  prepare_job: string | null;
  report_job: string | null;
  record: string | null;
  notes: string[];
}

function sbatch(args: string[], o: SlurmOptions): string {
  const r = slurmCommand('sbatch', args);
  if (!r.ok) throw sbatchError(r.stderr, o);
  const id = r.stdout.trim().split('\n').pop()!.split(';')[0].trim();
  if (!/^\d+$/.test(id)) throw new CrossflowError(`sbatch answered '${r.stdout.trim()}', not a job id`);
  return id;
}

/** Submits the study's runs that are neither done, running nor queued as one job array; returns at once. */
export async function submitStudy(study: Study, opts: SubmitOptions): Promise<SubmitSummary> {
  const log = opts.log ?? (() => {});
  const { dirs, slurm: o } = opts;
  checkWritable('--results-dir', dirs.results);
  checkWritable('--runs-dir', dirs.runs);
  const part = checkSlurmOptions(o, readPartitions());
  const notes = [sharedFolderNote('--results-dir', dirs.results, part), sharedFolderNote('--runs-dir', dirs.runs, part)].filter((x): x is string => !!x);
  const release = await lockStudy(study, dirs);
  try {
    const view = slurmView(dirs);
    if (!view.queue) throw new CrossflowError(`--executor slurm: cannot read Slurm's queue, so cannot tell which runs are queued already: ${view.queueError}`);
    const plan = planStudy(study, opts.profile, dirs, { rows: opts.rows, seeds: opts.seeds });
    const states = plan.map((run) => ({ run, status: runStatus(run, view) }));
    const todo: PlannedRun[] = states.filter(({ status: s }) => s.state === 'failed' || (s.state === 'pending' && !s.queued)).map(({ run }) => run);
    const done = states.filter(({ status: s }) => s.state === 'done').length;
    const summary: SubmitSummary = { study: study.name, job: null, tasks: [], done, active: plan.length - done - todo.length, prepare_job: null, report_job: null, record: null, notes };
    if (!todo.length) return summary;

    const dir = slurmDirOf(dirs);
    fs.mkdirSync(dir, { recursive: true });
    const stamp = `${study.name}-${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${process.pid}`;
    const script = path.join(dir, `${stamp}.sbatch`);
    writeFileAtomic(script, taskScript(process.env.CROSSFLOW_SLURM_SETUP ?? ''));
    fs.chmodSync(script, 0o755);
    const manifestLine = (markerBase: string, args: string[]) => [markerBase, ...args].join('\t');
    for (const a of [dirs.results, dirs.runs]) if (/[\t\n]/.test(a)) throw new CrossflowError(`--executor slurm: folder names cannot hold tabs or newlines: ${JSON.stringify(a)}`);
    const manifest = path.join(dir, `${stamp}.tasks`);
    writeFileAtomic(manifest, todo.map((run) => manifestLine(run.runDir, childArgs(run, dirs))).join('\n') + '\n');

    const common = ['--parsable', `--chdir=${REPO_ROOT}`, ...(o.partition ? [`--partition=${o.partition}`] : []), ...(o.time ? [`--time=${o.time}`] : []), ...(o.mem ? [`--mem=${o.mem}`] : [])];
    // The autoencoder every run shares: trained once, first, when it is not there yet (as the local executor does).
    const preset = SCALES[opts.profile].preset;
    const c = presetConfig(preset);
    let prepare: SlurmHelperJob | null = null;
    if (!fs.existsSync(autoencoderFile({ ...c.autoencoder }, 0, c.data.imageSize))) {
      const markerBase = path.join(dir, `${stamp}-prepare`);
      const args = ['train-autoencoder', '--preset', preset];
      writeFileAtomic(`${markerBase}.tasks`, manifestLine(markerBase, args) + '\n');
      const job = sbatch([...common, `--job-name=crossflow-${study.name}-autoencoder`, `--cpus-per-task=${o.cpus ?? 1}`, `--output=${path.join(dir, '%j.log')}`, script, `${markerBase}.tasks`], o);
      prepare = { kind: 'prepare', job, log: path.join(dir, `${job}.log`), markerBase, command: `npx crossflow ${args.join(' ')}` };
      log(`the shared autoencoder is not trained yet: Slurm job ${job} trains it first`);
    }

    const array = [
      ...common,
      `--job-name=crossflow-${study.name}`,
      `--array=0-${todo.length - 1}${o.throttle ? `%${o.throttle}` : ''}`,
      `--cpus-per-task=${o.cpus ?? 1}`,
      `--output=${path.join(dir, '%A_%a.log')}`,
      '--open-mode=append', // a requeued (preempted) task appends to its log
      '--requeue',
      ...(prepare ? [`--dependency=afterok:${prepare.job}`, '--kill-on-invalid-dep=yes'] : []),
      script,
      manifest,
    ];
    const job = sbatch(array, o);
    const submitted = new Date().toISOString();
    const tasks: SlurmTask[] = todo.map((run, index) => ({
      index, job: `${job}_${index}`, row: run.row, seed: run.seed, runDir: run.runDir, resultFile: run.resultFile,
      log: path.join(dir, `${job}_${index}.log`), command: run.command, submitted,
    }));
    const record: SlurmSubmission = {
      job, study: study.name, profile: opts.profile, results: dirs.results, runs: dirs.runs, submitted, options: o,
      sbatch: ['sbatch', ...array], script, manifest, tasks, prepare, report: null,
    };
    const recordFile = path.join(dir, `${job}.json`);
    writeFileAtomic(recordFile, JSON.stringify(record, null, 2) + '\n');

    // The reports once every task has ended, whatever its outcome (as the local executor writes them after its runs).
    const reportBase = path.join(dir, `${stamp}-report`);
    const reportArgs = ['ablate', study.name, '--profile', opts.profile, '--report', '--results-dir', dirs.results, '--runs-dir', dirs.runs];
    writeFileAtomic(`${reportBase}.tasks`, manifestLine(reportBase, reportArgs) + '\n');
    try {
      const rj = sbatch([...common, `--job-name=crossflow-${study.name}-report`, '--cpus-per-task=1', `--output=${path.join(dir, '%j.log')}`, `--dependency=afterany:${job}`, script, `${reportBase}.tasks`], o);
      record.report = { kind: 'report', job: rj, log: path.join(dir, `${rj}.log`), markerBase: reportBase, command: `npx crossflow ${reportArgs.join(' ')}` };
      writeFileAtomic(recordFile, JSON.stringify(record, null, 2) + '\n');
    } catch (err) {
      notes.push(`the reports job was not submitted (${(err as Error).message}); once the runs end: npx crossflow ${reportArgs.join(' ')}`);
    }
    return {
      ...summary, job, tasks: tasks.map((t) => ({ task: t.job, row: t.row, seed: t.seed, log: t.log })),
      prepare_job: prepare?.job ?? null, report_job: record.report?.job ?? null, record: recordFile,
    };
  } finally {
    await release();
  }
}
