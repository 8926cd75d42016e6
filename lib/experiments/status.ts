// Where every run of a study stands, whichever executor ran it: done (its result file matches
// today's config), running (its run directory is locked, or Slurm runs its task), pending (not run
// yet, or waiting in Slurm's queue) or failed (its last attempt exited non-zero, or its Slurm task
// ended without finishing). What each executor leaves behind is the same: the result file, the
// run directory's lock while it works, and `<runDir>.exit` with the exit code and the log.
import * as fs from 'fs';
import * as lockfile from 'proper-lockfile';
import { lockOptions } from './lock';
import type { Profile } from '../notebooks/profile';
import { PlannedRun, planStudy, SweepDirs } from './plan';
import { writeFileAtomic } from './runOne';
import type { SlurmTask, SlurmView } from './slurmView';
import type { Study } from './study';

/** `<runDir>.exit`: how the last attempt at a run ended. */
export interface ExitMarker {
  code: number;
  executor: 'local' | 'slurm';
  /** Slurm: `<array job>_<task>` (or the job id of a single job). */
  job?: string;
  /** The attempt's output. */
  log: string;
  host: string;
  /** ISO time. */
  finished: string;
}

export const exitMarkerOf = (runDir: string): string => `${runDir}.exit`;

export function writeExitMarker(runDir: string, marker: ExitMarker): void {
  writeFileAtomic(exitMarkerOf(runDir), JSON.stringify(marker) + '\n');
}

export function readExitMarker(runDir: string): ExitMarker | null {
  try {
    const m = JSON.parse(fs.readFileSync(exitMarkerOf(runDir), 'utf8')) as ExitMarker;
    return typeof m.code === 'number' ? m : null;
  } catch {
    return null;
  }
}

/** The last n non-empty lines of a log ('' when it cannot be read). Progress lines end in \r as well as \n. */
export function lastLines(file: string, n = 8): string {
  try {
    return fs.readFileSync(file, 'utf8').split(/\r|\n/).filter((l) => l.trim()).slice(-n).join('\n');
  } catch {
    return '';
  }
}

/** Whether some process (here or on a node sharing the folder) holds the run directory's lock now. */
export function runLockHeld(runDir: string): boolean {
  try {
    return lockfile.checkSync(runDir, { ...lockOptions(runDir), realpath: false });
  } catch {
    return false;
  }
}

/** What an exit code says about how the process ended. */
export function describeExit(code: number): string {
  if (code === 143) return 'exit 143: killed by SIGTERM (cancelled, preempted or out of time)';
  if (code === 137) return 'exit 137: killed by SIGKILL (cancelled, out of time or out of memory)';
  if (code === 130) return 'exit 130: interrupted (SIGINT)';
  return `exit ${code}`;
}

export type RunState = 'done' | 'running' | 'pending' | 'failed';

export interface RunStatus {
  row: string;
  seed: number;
  state: RunState;
  config_hash: string;
  run_dir: string;
  result: string;
  /** Who runs or ran it last, where known. */
  executor?: 'local' | 'slurm';
  /** Slurm task (`<job>_<index>`) that runs, waits for or last ran it. */
  job?: string;
  /** Slurm's state of that task, while its queue still lists it. */
  slurm_state?: string;
  /** pending: waiting in Slurm's queue. */
  queued?: boolean;
  exit_code?: number;
  /** Why it is pending or failed, in words. */
  reason?: string;
  /** failed: the attempt's log and its last lines. */
  log?: string;
  tail?: string;
  /** The single-run command (what an executor runs). */
  command: string;
}

export interface StudyStatus {
  study: string;
  profile: Profile;
  results_dir: string;
  runs_dir: string;
  counts: Record<RunState, number> & { queued: number };
  runs: RunStatus[];
  /** The latest Slurm submission's helper jobs (autoencoder, reports), when there is one. */
  jobs: Array<{ kind: 'prepare' | 'report'; job: string; state: RunState; log: string; tail?: string; reason?: string }>;
  /** Set when submissions exist but Slurm's queue could not be read. */
  queue_error?: string;
}

/** Slurm states in which a task has not ended: waiting, or working. */
const SLURM_WAITING = new Set(['PENDING', 'REQUEUED', 'REQUEUE_FED', 'REQUEUE_HOLD', 'SUSPENDED', 'STOPPED', 'RESV_DEL_HOLD', 'SPECIAL_EXIT']);
const SLURM_WORKING = new Set(['RUNNING', 'CONFIGURING', 'COMPLETING', 'RESIZING', 'SIGNALING', 'STAGE_OUT']);

/** The newest Slurm task that was submitted for this run of this study. */
function latestTask(view: SlurmView | null, run: PlannedRun): SlurmTask | null {
  let best: SlurmTask | null = null;
  for (const s of view?.submissions ?? [])
    for (const t of s.tasks)
      if (t.runDir === run.runDir && t.resultFile === run.resultFile && (!best || Date.parse(t.submitted) >= Date.parse(best.submitted))) best = t;
  return best;
}

function noLogText(log: string): string {
  return `(no log at ${log}: if the task never started, check the Slurm settings; if it ran on another node, the folder is not on a filesystem the nodes share)`;
}

export function runStatus(run: PlannedRun, view: SlurmView | null): RunStatus {
  const base: RunStatus = { row: run.row, seed: run.seed, state: 'pending', config_hash: run.configHash, run_dir: run.runDir, result: run.resultFile, command: run.command };
  if (run.status === 'done') return { ...base, state: 'done' };
  const task = latestTask(view, run);
  const q = task ? view?.queue?.get(task.job) : undefined;
  const slurm = task ? { job: task.job, ...(q ? { slurm_state: q.state } : {}) } : {};
  if (runLockHeld(run.runDir)) return { ...base, ...slurm, state: 'running', executor: q && (SLURM_WORKING.has(q.state) || SLURM_WAITING.has(q.state)) ? 'slurm' : undefined };
  if (q && SLURM_WORKING.has(q.state)) return { ...base, ...slurm, state: 'running', executor: 'slurm' };
  if (q && SLURM_WAITING.has(q.state)) return { ...base, ...slurm, state: 'pending', executor: 'slurm', queued: true, reason: `waiting in Slurm's queue (${q.reason})` };
  const marker = readExitMarker(run.runDir);
  // A marker speaks for the latest attempt: the Slurm task itself, or a local run after it was submitted.
  const current = marker && (!task || marker.job === task.job || (marker.executor === 'local' && Date.parse(marker.finished) >= Date.parse(task.submitted))) ? marker : null;
  if (current && current.code !== 0) {
    const tail = lastLines(current.log);
    return { ...base, ...slurm, state: 'failed', executor: current.executor, exit_code: current.code, reason: describeExit(current.code), log: current.log, tail: tail || noLogText(current.log) };
  }
  if (task && !current) {
    if (!view?.queue) return { ...base, ...slurm, state: 'pending', executor: 'slurm', reason: `Slurm task ${task.job} submitted, but Slurm's queue could not be read: ${view?.queueError ?? 'unknown'}` };
    const tail = lastLines(task.log);
    const how = q ? `Slurm ended it as ${q.state}${q.reason && q.reason !== 'None' ? ` (${q.reason})` : ''}` : 'it is no longer in Slurm\'s queue';
    return {
      ...base, ...slurm, state: 'failed', executor: 'slurm',
      reason: `task ${task.job} ended without writing its exit code: ${how} (cancelled, preempted, out of time or memory, or its node failed)`,
      log: task.log, tail: tail || noLogText(task.log),
    };
  }
  if (run.status === 'stale') return { ...base, reason: 'its result file was made with another config or evaluation' };
  return base;
}

function helperJobs(view: SlurmView | null, study: Study, dirs: SweepDirs): StudyStatus['jobs'] {
  const latest = (view?.submissions ?? []).filter((s) => s.study === study.name && s.results === dirs.results).sort((a, b) => Date.parse(a.submitted) - Date.parse(b.submitted)).pop();
  if (!latest) return [];
  const out: StudyStatus['jobs'] = [];
  for (const h of [latest.prepare, latest.report]) {
    if (!h) continue;
    const q = view?.queue?.get(h.job);
    const marker = readExitMarker(h.markerBase);
    const job = { kind: h.kind, job: h.job, log: h.log };
    if (q && SLURM_WORKING.has(q.state)) out.push({ ...job, state: 'running' });
    else if (q && SLURM_WAITING.has(q.state)) out.push({ ...job, state: 'pending', reason: `waiting in Slurm's queue (${q.reason})` });
    else if (marker && marker.job === h.job) out.push(marker.code === 0 ? { ...job, state: 'done' } : { ...job, state: 'failed', reason: describeExit(marker.code), tail: lastLines(h.log) || noLogText(h.log) });
    else if (!view?.queue) out.push({ ...job, state: 'pending', reason: `Slurm's queue could not be read: ${view?.queueError ?? 'unknown'}` });
    else out.push({ ...job, state: 'failed', reason: `ended without writing its exit code${q ? `: Slurm ended it as ${q.state} (${q.reason})` : ''}`, tail: lastLines(h.log) || noLogText(h.log) });
  }
  return out;
}

export function studyStatus(study: Study, profile: Profile, dirs: SweepDirs, opts: { rows?: string[]; seeds?: number }, view: SlurmView | null): StudyStatus {
  const runs = planStudy(study, profile, dirs, opts).map((r) => runStatus(r, view));
  const counts = { done: 0, running: 0, pending: 0, failed: 0, queued: 0 };
  for (const r of runs) {
    counts[r.state]++;
    if (r.queued) counts.queued++;
  }
  return {
    study: study.name, profile, results_dir: dirs.results, runs_dir: dirs.runs, counts, runs, jobs: helperJobs(view, study, dirs),
    ...(view && view.submissions.length && !view.queue ? { queue_error: view.queueError } : {}),
  };
}

/** The status as a researcher reads it: counts, then one line per run, failed runs with their log's last lines. */
export function formatStatus(s: StudyStatus): string {
  const c = s.counts;
  const L = [`${s.study} (${s.profile}): ${s.runs.length} runs: ${c.done} done, ${c.running} running, ${c.pending} pending${c.queued ? ` (${c.queued} queued in Slurm)` : ''}, ${c.failed} failed`];
  if (s.queue_error) L.push(`  (Slurm's queue could not be read: ${s.queue_error})`);
  for (const r of s.runs) {
    const who = r.job ? ` slurm ${r.job}${r.slurm_state ? ` ${r.slurm_state}` : ''}` : r.executor ? ` ${r.executor}` : '';
    L.push(`  ${r.state.padEnd(8)}${`${r.row}/seed${r.seed}`.padEnd(24)} ${r.config_hash}${r.state === 'done' ? '' : who}${r.reason ? `: ${r.reason}` : ''}`);
    if (r.state === 'failed') {
      L.push(`           log ${r.log}`);
      for (const line of (r.tail ?? '').split('\n')) L.push(`           | ${line}`);
    }
  }
  for (const j of s.jobs) {
    L.push(`  ${j.kind === 'report' ? 'reports' : 'autoencoder'}: slurm job ${j.job} ${j.state}${j.reason ? `: ${j.reason}` : ''} (log ${j.log})`);
    if (j.state === 'failed') for (const line of (j.tail ?? '').split('\n')) L.push(`           | ${line}`);
  }
  const left = c.pending - c.queued + c.failed;
  if (left > 0) L.push(`  ${left} run(s) neither done, running nor queued: the same command without --status runs them (with --executor slurm, on the cluster)`);
  return L.join('\n');
}
