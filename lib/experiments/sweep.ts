// A sweep: every pending run of one or more studies, each in its own process (`crossflow ablate <study>
// --rows R --seed K`, the command its result file records), J at a time from one queue, so a block's last
// run does not leave a core idle while the next block waits. With J > 1 each child gets one BLAS thread,
// so J jobs share the cores instead of fighting over them. Rows two studies share are one run directory:
// it never runs twice at once (the second finds training and evaluation cached). Each study's results
// folder is locked for the sweep: a second sweep of the same study on the same folder is refused with a
// message. `stage: 'sampling'` sweeps a study's sampling step instead (each child `... --sampling`).
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as lockfile from 'proper-lockfile';
import { lockOptions } from './lock';
import { CrossflowError } from '../errors';
import { loadOrTrainAutoencoder } from '../trainingData/latents';
import { REPO_ROOT } from '../paths';
import type { Profile } from '../notebooks/profile';
import { hashOf, PlannedRun, planStudy, Stage, SweepDirs } from './plan';
import { lastLines, writeExitMarker } from './status';
import type { Study } from './study';

export interface SweepOptions {
  profile: Profile;
  dirs: SweepDirs;
  jobs: number;
  rows?: string[];
  seeds?: number;
  /** 'train' (default): train and evaluate; 'sampling': the study's sampling step. */
  stage?: Stage;
  log?: (m: string) => void;
}

export interface SweepSummary {
  study: string;
  /** Present for a sampling-stage sweep. */
  stage?: 'sampling';
  profile: Profile;
  jobs: number;
  planned: number;
  alreadyDone: number;
  ran: number;
  failed: Array<{ run: string; log: string; tail: string }>;
  wallSeconds: number;
}

export const CLI = path.join(REPO_ROOT, 'bin', 'crossflow.js');

/** The arguments of the single-run command of one run (after `node bin/crossflow.js`): what every executor runs. */
export function childArgs(run: PlannedRun, dirs: SweepDirs): string[] {
  return ['ablate', run.study, '--profile', run.profile, '--rows', run.row, '--seed', String(run.seed), ...(run.stage === 'sampling' ? ['--sampling'] : []), '--results-dir', dirs.results, '--runs-dir', dirs.runs];
}

/** Runs one planned run in a child process; resolves with its exit code. Its output goes to `<runDir>.log`, its exit code to `<runDir>.exit`. */
function runChild(run: PlannedRun, dirs: SweepDirs, jobs: number, log: (m: string) => void): Promise<{ code: number; logFile: string }> {
  const logFile = `${run.runDir}.log`;
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const out = fs.openSync(logFile, 'a');
  const env = { ...process.env };
  if (jobs > 1) env.OPENBLAS_NUM_THREADS = '1';
  const name = `${run.row}/seed${run.seed}`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...childArgs(run, dirs)], { cwd: REPO_ROOT, env, stdio: ['ignore', out, 'pipe'] });
    let pending = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      fs.writeSync(out, chunk);
      pending += chunk.toString();
      const lines = pending.split(/\r|\n/);
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) log(`[${name}] ${line.trim()}`);
    });
    child.on('close', (code, signal) => {
      fs.closeSync(out);
      const exit = code ?? 128 + (signal ? os.constants.signals[signal] : 0); // killed by a signal: as a shell reports it
      writeExitMarker(run.runDir, { code: exit, executor: 'local', log: logFile, host: os.hostname(), finished: new Date().toISOString() });
      resolve({ code: exit, logFile });
    });
  });
}

/** Locks the study's results folder: one sweep (or Slurm submission) of a study on a folder at a time. */
export async function lockStudy(study: Study, dirs: SweepDirs): Promise<() => Promise<void>> {
  const dir = path.join(dirs.results, study.name);
  fs.mkdirSync(dir, { recursive: true });
  try {
    return await lockfile.lock(dir, lockOptions(dir));
  } catch (err) {
    if ((err as { code?: string }).code === 'ELOCKED')
      throw new CrossflowError(`another sweep of '${study.name}' is running on ${dir} (lock ${dir}.lock); wait for it to finish, or stop it: its finished runs are kept and this command resumes the rest (a lock left by a killed sweep goes stale within a minute)`);
    throw err;
  }
}

/**
 * Runs `items` at most `jobs` at a time, in queue order, except that two items with the same key never
 * run at once: a worker takes the first queued item whose key is free, and waits only when none is.
 */
export async function runPool<T>(items: readonly T[], jobs: number, keyOf: (item: T) => string, exec: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const running = new Map<string, Promise<void>>();
  const worker = async (): Promise<void> => {
    while (queue.length > 0) {
      const i = queue.findIndex((item) => !running.has(keyOf(item)));
      if (i < 0) {
        await Promise.race(running.values()); // every queued item waits on a running key
        continue;
      }
      const [item] = queue.splice(i, 1);
      const key = keyOf(item);
      const done = exec(item).finally(() => running.delete(key));
      running.set(key, done.catch(() => {}));
      await done;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
}

/** One study's sweep: see sweepStudies. */
export async function sweep(study: Study, opts: SweepOptions): Promise<SweepSummary> {
  return (await sweepStudies([study], opts))[0];
}

/** The pending runs of every study, J at a time from one queue (study order, then each study's seed-major order); one summary per study. */
export async function sweepStudies(studies: readonly Study[], opts: SweepOptions): Promise<SweepSummary[]> {
  const log = opts.log ?? (() => {});
  const releases: Array<() => Promise<void>> = [];
  const t0 = Date.now();
  try {
    for (const study of studies) releases.push(await lockStudy(study, opts.dirs));
    const plans = studies.map((study) => planStudy(study, opts.profile, opts.dirs, { rows: opts.rows, seeds: opts.seeds, stage: opts.stage }));
    const pending = plans.flatMap((plan) => plan.filter((r) => r.status !== 'done'));
    studies.forEach((study, k) => {
      const todo = plans[k].filter((r) => r.status !== 'done').length;
      log(`${study.name} (${opts.profile}): ${plans[k].length} runs, ${plans[k].length - todo} done, ${todo} to run`);
    });
    if (studies.length > 1) log(`${pending.length} runs to run in all, ${opts.jobs} at a time`);
    else log(`${opts.jobs} at a time`);
    // The autoencoder is shared by every run (by every run of a kind): train it once here, not in J children at once.
    for (const c of new Map(pending.map((r) => [hashOf(r.config.autoencoder), r.config])).values()) await loadOrTrainAutoencoder({ ...c.autoencoder }, 0, c.data.imageSize, log);
    const tally = new Map(studies.map((s) => [s.name, { ran: 0, failed: [] as SweepSummary['failed'], ended: t0 }]));
    await runPool(pending, opts.jobs, (run) => run.runDir, async (run) => {
      const name = studies.length > 1 ? `${run.study}/${run.row}/seed${run.seed}` : `${run.row}/seed${run.seed}`;
      log(`start ${name} (${run.runDir})`);
      const { code, logFile } = await runChild(run, opts.dirs, opts.jobs, log);
      const t = tally.get(run.study)!;
      t.ended = Date.now();
      if (code === 0) {
        t.ran++;
        log(`done ${name}: ${path.relative(REPO_ROOT, run.resultFile)}`);
      } else t.failed.push({ run: `${run.row}/seed${run.seed}`, log: logFile, tail: lastLines(logFile) });
    });
    return studies.map((study, k) => {
      const t = tally.get(study.name)!;
      const summary: SweepSummary = {
        study: study.name, ...(opts.stage === 'sampling' ? { stage: 'sampling' as const } : {}), profile: opts.profile, jobs: opts.jobs,
        planned: plans[k].length, alreadyDone: plans[k].filter((r) => r.status === 'done').length, ran: t.ran, failed: t.failed,
        // From the sweep's start to this study's last run's end (its runs share the pool with the other studies').
        wallSeconds: ((t.ran + t.failed.length > 0 ? t.ended : Date.now()) - t0) / 1000,
      };
      if (t.ran > 0) fs.appendFileSync(path.join(opts.dirs.results, 'sweeps.jsonl'), JSON.stringify({ ...summary, failed: t.failed.length, finished: new Date().toISOString() }) + '\n');
      return summary;
    });
  } finally {
    for (const release of releases.reverse()) await release();
  }
}
